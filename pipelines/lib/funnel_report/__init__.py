"""The HTML funnel report and the plain-text stage table, read from the reporting DuckDB file."""

from pipelines.lib.funnel_report.model import FunnelReport, ReportData, StageSummary
from pipelines.lib.funnel_report.page import write_funnel_report
from pipelines.lib.funnel_report.read_marts import load_report_data
from pipelines.lib.funnel_report.text_formats import format_duration, format_stage_table

__all__ = [
    "FunnelReport",
    "ReportData",
    "StageSummary",
    "format_duration",
    "format_stage_table",
    "load_report_data",
    "write_funnel_report",
]

"""Funnel definitions: the YAML model, its loader and the tables that carry it to dbt."""

from pipelines.lib.funnels.loader import (
    FunnelConfigError,
    load_funnels,
    parse_duration,
    parse_funnels,
)
from pipelines.lib.funnels.model import (
    Attribution,
    EventMatcher,
    Exclusion,
    Filter,
    Funnel,
    FunnelSet,
    Intent,
    Matcher,
    Stage,
)
from pipelines.lib.funnels.tables import (
    TABLE_SCHEMAS,
    compile_funnel_tables,
    write_funnel_tables,
)

__all__ = [
    "TABLE_SCHEMAS",
    "Attribution",
    "EventMatcher",
    "Exclusion",
    "Filter",
    "Funnel",
    "FunnelConfigError",
    "FunnelSet",
    "Intent",
    "Matcher",
    "Stage",
    "compile_funnel_tables",
    "load_funnels",
    "parse_duration",
    "parse_funnels",
    "write_funnel_tables",
]

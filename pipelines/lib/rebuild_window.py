"""Which cohorts a run over a partition range rebuilds (dbt) and republishes."""

from __future__ import annotations

from datetime import date

from pipelines.lib.dbt_vars import reprocess_from
from pipelines.lib.funnels import load_funnels
from pipelines.lib.settings import Settings


def rebuild_start(settings: Settings, first_partition: date) -> date:
    """First cohort date to rebuild: the partition start minus the longest funnel window,
    the late-data allowance and one day."""
    funnels = load_funnels(settings.funnels_file)
    longest_window = max(funnel.window_days for funnel in funnels)
    return reprocess_from(first_partition, longest_window, settings.late_data_days)

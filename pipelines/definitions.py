"""The Dagster code location, built from one Settings object.

`build_definitions(settings)` is what the CLI and the tests call; `defs` is the entry point the
UI's code server (workspace.yaml, `dg dev`) loads, reading the settings from the environment once.
"""

import warnings

import dagster as dg

from pipelines.defs import resources
from pipelines.defs.automation import schedules
from pipelines.defs.ingest import (
    ad_performance,
    events,
    exchange_rates,
    funnel_definitions,
    landing_exports,
)
from pipelines.defs.publish import report, reporting
from pipelines.defs.shared import daily_partitions
from pipelines.defs.transform import dbt_models
from pipelines.lib.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job and resource, partitioned by the settings' export days."""
    partitions = daily_partitions(settings)
    with warnings.catch_warnings():
        # Every partitioned asset backfills a range in one run on purpose (BackfillPolicy is
        # beta in Dagster 1.13): the warning would repeat on every run's console.
        warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
        return _merged_definitions(settings, partitions)


def _merged_definitions(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions.merge(
        landing_exports.defs(),
        events.defs(partitions),
        ad_performance.defs(partitions),
        funnel_definitions.defs(partitions),
        exchange_rates.defs(partitions),
        dbt_models.defs(partitions),
        reporting.defs(partitions),
        report.defs(partitions),
        schedules.defs(),
        resources.resources(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())

"""The nightly job and its schedule. Backfills of any range run the same job in one run."""

import dagster as dg

NIGHTLY_JOB_NAME = "microfunnel_nightly"


def defs() -> dg.Definitions:
    nightly_job = dg.define_asset_job(
        name=NIGHTLY_JOB_NAME,
        selection=dg.AssetSelection.all(),
        description=(
            "Ingest the day's exports, check them, rebuild the open cohorts with dbt and publish "
            "the marts and the HTML report."
        ),
    )
    # Runs shortly after each day closes in the reporting timezone, for that day. Stopped until
    # someone turns it on (UI: Automation, or `dagster schedule start`): a demo or a laptop
    # must not start ingesting on its own.
    nightly_schedule = dg.build_schedule_from_partitioned_job(
        nightly_job,
        name="microfunnel_nightly_schedule",
        hour_of_day=2,
        minute_of_hour=15,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return dg.Definitions(jobs=[nightly_job], schedules=[nightly_schedule])

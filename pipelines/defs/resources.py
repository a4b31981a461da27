"""Resources shared by every asset, registered once."""

import dagster as dg

from pipelines.defs.shared import MicrofunnelResource, dbt_resource
from pipelines.lib.settings import ENV_POSTGRES_URL, ENV_PSEUDONYMIZATION_KEY, Settings


@dg.definitions
def resources() -> dg.Definitions:
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            "microfunnel": MicrofunnelResource(
                landing_dir=str(settings.landing_dir),
                warehouse_dir=str(settings.warehouse_dir),
                funnels_file=str(settings.funnels_file),
                timezone=settings.timezone,
                start_date=settings.start_date.isoformat(),
                end_date=settings.end_date.isoformat() if settings.end_date else None,
                late_data_days=settings.late_data_days,
                # A secret: read from the environment at run time, never shown in the UI.
                postgres_url=dg.EnvVar(ENV_POSTGRES_URL) if settings.postgres_url else None,
                # Also a secret; without it ingestion fails with a message naming the variable.
                pseudonymization_key=(
                    dg.EnvVar(ENV_PSEUDONYMIZATION_KEY) if settings.pseudonymization_key else None
                ),
                erasure_file=str(settings.erasure_list_path),
            ),
            "dbt": dbt_resource(),
        }
    )

"""Resources shared by every asset: the settings (as a resource) and dbt."""

import dagster as dg

from pipelines.defs.shared import MicrofunnelResource
from pipelines.lib.dbt_project import dbt_resource
from pipelines.lib.settings import Settings


def resources(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        resources={
            "microfunnel": MicrofunnelResource.from_settings(settings),
            "dbt": dbt_resource(),
        }
    )

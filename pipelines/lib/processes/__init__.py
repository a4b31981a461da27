"""Child processes that never outlive the pipeline run that started them."""

from pipelines.lib.processes.lifetime import die_with_parent, is_alive, process_started_at
from pipelines.lib.processes.tree import stop_process_group

__all__ = ["die_with_parent", "is_alive", "process_started_at", "stop_process_group"]

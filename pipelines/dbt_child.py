"""`microfunnel-dbt`: dbt as a child that dies with the run that started it.

dagster-dbt starts dbt with `subprocess.Popen` and no way to pass a `preexec_fn`; this small
entry point is its `dbt_executable`. It asks the kernel to kill it when its parent dies (so a run
killed with SIGKILL does not leave dbt writing the warehouse), records itself in the warehouse's
child ledger, then replaces itself with the real dbt (same pid, signals reach dbt directly).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipelines.lib.dbt_vars import warehouse_dir_in
from pipelines.lib.processes import die_with_parent
from pipelines.lib.processes.children import record_child


def main() -> None:
    die_with_parent()
    warehouse = warehouse_dir_in(sys.argv[1:])
    if warehouse:
        record_child(warehouse)
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()

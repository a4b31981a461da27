"""Wait, visibly and interruptibly, until no other run holds the pools a run needs.

Inside a Dagster run a step blocked on a pool waits without checking for Ctrl-C, and says nothing
on the console. Waiting here first, before the run starts, names the run that holds the pool and
can be interrupted; the run then starts with its pools free.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import dagster as dg

_POLL_SECONDS = 2.0


def pool_holders(instance: dg.DagsterInstance, pools: Iterable[str]) -> dict[str, set[str]]:
    """Pool -> ids of the runs holding its slots, for pools whose slots are all taken."""
    storage = instance.event_log_storage
    known = set(storage.get_concurrency_keys())
    full = {}
    for pool in pools:
        if pool not in known:
            continue
        info = storage.get_concurrency_info(pool)
        if info.slot_count and info.active_slot_count >= info.slot_count:
            full[pool] = {slot.run_id for slot in info.claimed_slots}
    return full


def wait_for_pools(
    instance: dg.DagsterInstance,
    pools: Iterable[str],
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    pools = list(pools)
    announced: set[tuple[str, frozenset[str]]] = set()
    while held := pool_holders(instance, pools):
        for pool, runs in held.items():
            if (pool, frozenset(runs)) not in announced:
                announced.add((pool, frozenset(runs)))
                names = ", ".join(sorted(run[:8] for run in runs))
                say(f"waiting for run {names} to release pool {pool} (Ctrl-C to stop waiting)")
        sleep(_POLL_SECONDS)

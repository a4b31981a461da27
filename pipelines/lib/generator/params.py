"""GA4 `event_params`: a repeated key/value RECORD, rendered as JSON text per event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import bq_json as bq

STRING, INT, DOUBLE = "string", "int", "double"


@dataclass(frozen=True)
class Param:
    key: str
    kind: str  # STRING, INT or DOUBLE: which of the value fields is set
    mask: np.ndarray  # events that carry this key
    text: pa.Array | str  # value text (escaped string / digits / number) for the masked rows

    def fragments(self) -> pa.Array:
        quote = "" if self.kind == DOUBLE else '"'
        prefix = f'{{"key":{bq.quote(self.key)},"value":{{"{self.kind}_value":{quote}'
        suffix = f"{quote}}}}}"
        n = int(self.mask.sum())
        if isinstance(self.text, str):
            one = pa.array([prefix + self.text + suffix])
            return one.take(pa.array(np.zeros(n, dtype=np.int64)))
        return bq.concat(prefix, self.text, suffix)


def render_event_params(params: list[Param], n_events: int) -> pa.Array:
    """For each event, the comma-joined records of its params, in the order given."""
    return join_masked([(p.mask, p.fragments) for p in params], n_events)


def join_masked(
    parts: list[tuple[np.ndarray, Callable[[], pa.Array]]], n_rows: int, sep: str = ","
) -> pa.Array:
    """Per row, the `sep`-joined fragments of the parts whose mask holds that row, in order.
    Each part gives a mask and a function returning its fragments for the masked rows."""
    counts = np.zeros(n_rows, dtype=np.int64)
    for mask, _ in parts:
        counts += mask
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    filled = np.zeros(n_rows, dtype=np.int64)
    pieces, dest = [], []
    for mask, fragments in parts:
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        dest.append(offsets[rows] + filled[rows])
        filled[rows] += 1
        pieces.append(fragments())
    if not pieces:
        return pa.array([""] * n_rows)
    flat = pa.concat_arrays(pieces)
    order = np.empty(len(flat), dtype=np.int64)
    order[np.concatenate(dest)] = np.arange(len(flat))
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat.take(order))
    return pc.binary_join(lists, sep)

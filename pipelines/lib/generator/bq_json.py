"""JSON text the way a BigQuery extract job writes it.

BigQuery's NEWLINE_DELIMITED_JSON extract encodes INT64 as JSON strings, leaves NULL fields
out, writes `<`, `>` and `&` as \\u003c, \\u003e and \\u0026, and keeps other text as UTF-8.
Rows are assembled from pre-rendered fragments with Arrow string kernels, so no Python code runs
per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def escape(text: str) -> str:
    """The inside of a JSON string literal, BigQuery style (no surrounding quotes)."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def quote(text: str) -> str:
    return f'"{escape(text)}"'


def record(fields: dict[str, object]) -> str:
    """A JSON object for a RECORD; None fields are left out, ints are written as strings."""
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        parts.append(f"{quote(key)}:{scalar(value)}")
    return "{" + ",".join(parts) + "}"


def scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return record(value)
    return quote(str(value))


def vocab(fragments: Sequence[str]) -> pa.StringArray:
    return pa.array(list(fragments), type=pa.string())


def pick(fragments: pa.StringArray | Sequence[str], codes: np.ndarray) -> pa.Array:
    """Fragment per row by code (a vectorised lookup)."""
    if not isinstance(fragments, pa.Array):
        fragments = vocab(fragments)
    return fragments.take(pa.array(np.asarray(codes, dtype=np.int64)))


def digits(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def number(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.float64)), pa.string())


def concat(*pieces: pa.Array | str) -> pa.Array:
    """Row-wise concatenation; plain str pieces are broadcast to every row."""
    return pc.binary_join_element_wise(*pieces, "")


def optional(mask: np.ndarray, present: pa.Array) -> pa.Array:
    """`present` where mask is set, an empty string (field left out) elsewhere."""
    return pc.if_else(pa.array(mask), present, "")


def scatter_optional(mask: np.ndarray, present_rows: pa.Array) -> pa.Array:
    """Like `optional`, with `present_rows` holding only the rows where mask is set."""
    n = len(mask)
    index = np.full(n, len(present_rows), dtype=np.int64)
    index[mask] = np.arange(int(mask.sum()))
    padded = pa.concat_arrays([present_rows.cast(pa.string()), pa.array([""])])
    return padded.take(pa.array(index))

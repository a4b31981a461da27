"""Write Arrow string arrays of JSON lines to a file, optionally gzip-compressed."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa


def _raw_bytes(lines: pa.Array) -> memoryview:
    """The text of a string array as one buffer (lines already end in newlines)."""
    if lines.type != pa.string():
        lines = lines.cast(pa.string())
    offsets = np.frombuffer(
        lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
    )
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def write_lines(path: Path, chunks: Iterable[pa.Array], *, compress: bool) -> int:
    """Write every chunk in order; returns the number of lines. gzip output carries no
    timestamp or file name, so the same input gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("wb") as raw:
        out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else raw
        try:
            for chunk in chunks:
                if len(chunk):
                    out.write(_raw_bytes(chunk))
                    count += len(chunk)
        finally:
            if compress:
                out.close()
    tmp.replace(path)  # readers never see a half-written export
    return count

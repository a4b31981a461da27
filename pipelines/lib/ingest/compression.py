"""Gzip integrity: DuckDB's gzip reader stops quietly at a truncated stream, so we check.

A truncated `.gz` (an interrupted transfer) reads as its first part, as if complete: a silent
partial day. `gzip_problem` inflates the whole file with zlib (C code that releases the GIL,
so it runs in a thread while DuckDB reads the same file) and verifies every member's CRC-32 and
length trailer. Multi-member files (concatenated gzip streams, as `cat a.gz b.gz` or parallel
compressors write) are valid; bytes after the last member are not (DuckDB refuses them too).
The output is discarded chunk by chunk: memory stays bounded whatever the file size.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # zlib: expect a gzip header and check the CRC-32/ISIZE trailer
_READ_CHUNK = 1 << 20
_OUTPUT_CHUNK = 8 << 20  # bounded inflate output per call (a zip bomb cannot fill memory)


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes, whatever its name."""
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def named_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def gzip_problem(path: Path) -> str | None:
    """None when `path` is a complete, intact gzip file; else what is wrong with it."""
    members = 0
    consumed = 0
    inflater = zlib.decompressobj(_GZIP_WBITS)
    started = False
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            data = chunk
            while data:
                started = True
                try:
                    inflater.decompress(data, _OUTPUT_CHUNK)
                except zlib.error as error:
                    return _corrupt(error, members, consumed)
                if inflater.eof:
                    members += 1
                    used = len(data) - len(inflater.unused_data)
                    consumed += used
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(_GZIP_WBITS)
                    started = False
                    continue
                used = len(data) - len(inflater.unconsumed_tail)
                consumed += used
                data = inflater.unconsumed_tail
    if started or members == 0:
        return (
            f"truncated gzip stream: member {members + 1} ends after {consumed:,} compressed "
            "bytes without its CRC-32/length trailer (an interrupted transfer?)"
        )
    return None


def _corrupt(error: zlib.error, members: int, consumed: int) -> str:
    message = str(error).removeprefix("Error -3 while decompressing data: ")
    if members and "header" in message:
        return f"{consumed:,} bytes of gzip data followed by bytes that are not gzip data"
    if "incorrect data check" in message:
        return f"corrupt gzip data: CRC-32 mismatch in member {members + 1}"
    if "incorrect length check" in message:
        return f"corrupt gzip data: length mismatch in member {members + 1}"
    if "header" in message:
        return "not gzip data (no gzip header)"
    return f"corrupt gzip data in member {members + 1} near byte {consumed:,} ({message})"


@contextmanager
def checked_in_background(path: Path, gzipped: bool) -> Iterator[Future[str | None]]:
    """`gzip_problem(path)` running in a thread for the length of the block (the thread is
    joined on exit); an already-answered None when the file is not gzip."""
    if not gzipped:
        done: Future[str | None] = Future()
        done.set_result(None)
        yield done
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gzip-check") as pool:
        yield pool.submit(gzip_problem, path)

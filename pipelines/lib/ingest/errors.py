"""The one exception type for bad input, so callers can tell data problems from bugs."""

from __future__ import annotations


class IngestError(Exception):
    """Input that cannot be ingested. The message names the file and the line or column."""

"""Finding export files in the landing zone: only regular files inside the landing root."""

from __future__ import annotations

from datetime import date
from pathlib import Path

GA4_DIR = "ga4"
GOOGLE_ADS_DIR = "google_ads"
GA4_SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet")
CSV_SUFFIXES = (".csv",)


class LandingPathError(ValueError):
    """A landing path that escapes the root or is a link: refused, never read."""


def safe_landing_path(root: Path, path: Path) -> Path:
    """`path` resolved, if it is inside `root`, names no `..` and no link on the way from root.

    The root itself may be a link (a mounted drop folder); nothing below it may be.
    """
    if ".." in path.parts:
        raise LandingPathError(f"{path}: '..' is not allowed in a landing path")
    if path.is_symlink():
        raise LandingPathError(f"{path}: symbolic links are not read from the landing zone")
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise LandingPathError(f"{path}: resolves outside the landing root {root}")
    if path.is_relative_to(root):
        for parent in path.relative_to(root).parents:
            if parent != Path(".") and (root / parent).is_symlink():
                raise LandingPathError(
                    f"{path}: {root / parent} is a symbolic link; links are not followed in "
                    "the landing zone"
                )
    return resolved


_safe = safe_landing_path


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.removesuffix(".gz")
    return any(name.endswith(suffix) for suffix in suffixes)


def ga4_files_for_day(landing_dir: Path, export_date: date) -> list[Path]:
    """`ga4/events_YYYYMMDD*.json[.gz]|.parquet`, or every file of a `ga4/events_YYYYMMDD/` set."""
    folder = landing_dir / GA4_DIR
    stem = f"events_{export_date:%Y%m%d}"
    candidates = [*folder.glob(f"{stem}*"), *folder.glob(f"{stem}/*")]
    files = [p for p in candidates if not p.is_dir() and _has_suffix(p, GA4_SUFFIXES)]
    return sorted({_safe(landing_dir, p) for p in files})


def day_files(landing_dir: Path, folder: str, day: date, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under `<landing>/<folder>/` (any depth) whose name carries `day` as YYYYMMDD or
    YYYY-MM-DD: the export-day rule of every site tracker (one file set per export day)."""
    root = landing_dir / folder
    stamps = (f"{day:%Y%m%d}", day.isoformat())
    files = [
        p
        for p in root.rglob("*")
        if not p.is_dir() and _has_suffix(p, suffixes) and any(s in p.name for s in stamps)
    ]
    return sorted({_safe(landing_dir, p) for p in files})


def all_files(landing_dir: Path, folder: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Every file under `<landing>/<folder>/` (any depth) with one of `suffixes` (.gz allowed):
    ad reports, whose rows carry their own day and are filtered after reading."""
    root = landing_dir / folder
    files = [p for p in root.rglob("*") if not p.is_dir() and _has_suffix(p, suffixes)]
    return sorted({_safe(landing_dir, p) for p in files})


def google_ads_files(landing_dir: Path) -> list[Path]:
    """Every Google Ads report file; each row carries its own day, filtered after reading."""
    folder = landing_dir / GOOGLE_ADS_DIR
    files = [p for p in folder.rglob("*") if not p.is_dir() and _has_suffix(p, CSV_SUFFIXES)]
    return sorted({_safe(landing_dir, p) for p in files})

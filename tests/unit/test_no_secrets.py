"""No secret in a committed file, a log line or a Dagster UI field."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.lib.privacy import PseudonymizationKeyError, protect_events
from pipelines.lib.publish.urls import redact_url
from pipelines.lib.settings import ENV_POSTGRES_URL, ENV_PSEUDONYMIZATION_KEY, REPO_ROOT, Settings

KEY = "no-secrets-test-key-7f3a9c"
# Built from parts so the scanner below does not find it in this file.
URL = "postgresql://app:" + "pg-secret-9c1e" + "@db.internal:5432/reporting"
# Fake passwords that tests use on purpose to check redaction (never real credentials).
TEST_ONLY_PASSWORDS = {"s3cret", "hunter2-secret", "p@ss:w0rd"}
_PG_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://([^\s'\"/?#]+)@")
_PG_QUERY_PASSWORD = re.compile(r"postgres(?:ql)?://\S*[?&]password=([^&\s'\"#]+)")
_KEY_ASSIGNED = re.compile(
    ENV_PSEUDONYMIZATION_KEY + r"""["']?\]?\s*[:=]\s*["']?(?P<value>[^\s"'$<{(][^\s"']*)"""
)
_OTHER = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
]
_PLACEHOLDERS = ("***", "$", "{", "<", "%")


def secrets_in(text: str, path: str = "") -> list[str]:
    """Things in `text` that look like secrets (placeholders and known test fakes excepted)."""
    found: list[str] = []
    passwords = [m.group(1).split(":", 1)[1] for m in _PG_URL.finditer(text) if ":" in m.group(1)]
    passwords += [m.group(1) for m in _PG_QUERY_PASSWORD.finditer(text)]
    for password in passwords:
        if password.startswith(_PLACEHOLDERS):
            continue
        if path.startswith("tests/") and password in TEST_ONLY_PASSWORDS:
            continue
        found.append(f"PostgreSQL URL with a password ({password[:2]}...)")
    found += [
        f"{ENV_PSEUDONYMIZATION_KEY} assigned a literal" for _ in _KEY_ASSIGNED.finditer(text)
    ]
    found += [f"private key or cloud credential ({p.pattern})" for p in _OTHER if p.search(text)]
    return found


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return [line for line in out.stdout.splitlines() if line]


@pytest.mark.parametrize(
    "text",
    [
        "url = 'postgresql://app:" + "realpass@db/x'",
        "postgres://u:" + "pw@h:5432/d",
        "postgresql://app@db/x?sslmode=require&password=" + "realpass",
        ENV_PSEUDONYMIZATION_KEY + "=" + "abcdef0123456789",
        "os.environ['" + ENV_PSEUDONYMIZATION_KEY + "'] = '" + "abcdef0123456789'",
        ENV_PSEUDONYMIZATION_KEY + ": " + "abcdef0123456789",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
    ],
)
def test_the_scanner_finds_planted_secrets(text):
    assert secrets_in(text, "pipelines/x.py")


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://app:***@db/reporting",
        "export " + ENV_PSEUDONYMIZATION_KEY + "=$(openssl rand -hex 32)",
        "dg.EnvVar(ENV_PSEUDONYMIZATION_KEY)",
        "| `" + ENV_PSEUDONYMIZATION_KEY + "` | unset | the key |",
    ],
)
def test_the_scanner_leaves_placeholders_alone(text):
    assert secrets_in(text, "README.md") == []


def test_no_tracked_file_contains_a_secret():
    problems = []
    for name in tracked_files():
        path = REPO_ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += [f"{name}: {finding}" for finding in secrets_in(text, name)]
    assert problems == []


def test_settings_repr_shows_neither_the_url_nor_the_key(tmp_path):
    settings = Settings.from_env(
        {"MICROFUNNEL_HOME": str(tmp_path), ENV_POSTGRES_URL: URL, ENV_PSEUDONYMIZATION_KEY: KEY}
    )
    assert settings.pseudonymization_key == KEY and settings.postgres_url == URL
    assert KEY not in repr(settings) and "pg-secret" not in repr(settings)


def test_the_dagster_resource_takes_secrets_from_env_vars_only(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROFUNNEL_HOME", str(tmp_path))
    monkeypatch.setenv(ENV_POSTGRES_URL, URL)
    monkeypatch.setenv(ENV_PSEUDONYMIZATION_KEY, KEY)
    from pipelines.defs.resources import resources

    resource = resources(Settings.from_env()).resources["microfunnel"]
    # What the UI shows is the resource's config: the variable names, never the values.
    shown = repr(resource) + str(resource.__dict__)
    assert KEY not in shown and "pg-secret" not in shown
    assert ENV_PSEUDONYMIZATION_KEY in shown
    assert isinstance(resource.pseudonymization_key, dg.EnvVar)  # resolved at run time


def test_redacted_urls_and_ingest_messages_carry_no_secret(tmp_path):
    from pipelines.defs.ingest.ingest_metadata import ingest_metadata
    from pipelines.lib.ingest import load_ga4_day

    assert "pg-secret" not in redact_url(URL)
    export = REPO_ROOT / "tests" / "fixtures" / "ga4" / "events_20240105.json"
    with duckdb.connect() as con:
        result = load_ga4_day(con, [export], date(2024, 1, 5), "UTC", datetime(2024, 1, 6))
        result = protect_events(con, result, KEY, tmp_path / "none.txt")
        texts = [result.describe(), str(ingest_metadata([result], "loaded"))]
        texts.append(str(con.execute("select * from duckdb_variables()").fetchall()))
    assert all(KEY not in text for text in texts)


def test_the_missing_key_error_names_the_variable_but_no_value():
    with pytest.raises(PseudonymizationKeyError) as err:
        protect_events(duckdb.connect(), None, "short-key", Path("/none"))  # type: ignore[arg-type]
    assert ENV_PSEUDONYMIZATION_KEY in str(err.value) and "short-key" not in str(err.value)

"""Connection strings in logs and errors: never with a password."""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

REDACTED = "***"
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_KV_SECRET = re.compile(r"\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` (a URI or a ``key=value`` conninfo) with every password replaced by ``***``."""
    scheme = _URL_SCHEME.match(url)
    if scheme is None:
        return _KV_SECRET.sub(lambda m: m.group(1) + REDACTED, url)
    rest = url[scheme.end() :]
    # The user info ends at the last "@" before the query string: passwords may contain "@".
    query_at = rest.find("?")
    head, tail = (rest, "") if query_at < 0 else (rest[:query_at], rest[query_at:])
    at = head.rfind("@")
    if at >= 0:
        userinfo, hostpart = head[:at], head[at:]
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + REDACTED
        head = userinfo + hostpart
    tail = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, tail)
    return scheme.group(0) + head + tail


def url_password(url: str) -> str | None:
    """The password in ``url``, to scrub it from driver messages; None when there is none."""
    try:
        password = conninfo_to_dict(url).get("password")
        return str(password) if password else None
    except psycopg.Error:
        return None


def describe_target(url: str, schema: str | None = None) -> str:
    """``host:port/dbname`` (and schema) for messages: enough to find the server, no secrets."""
    safe = redact_url(url)  # parse the redacted form: a malformed URL cannot leak a secret
    try:
        info = conninfo_to_dict(safe)
    except psycopg.Error:
        return safe
    host = info.get("host") or info.get("hostaddr") or "localhost"
    port = info.get("port") or "5432"
    dbname = info.get("dbname") or info.get("user") or "?"
    text = f"postgresql {host}:{port}/{dbname}"
    return f"{text} schema {schema}" if schema else text


def scrub(message: str, url: str) -> str:
    """Remove the URL's password from any text (driver errors can echo connection options)."""
    password = url_password(url)
    if password:
        message = message.replace(password, REDACTED)
    return message

"""Deliver dbt marts to reporting targets: a DuckDB file, Parquet folders and PostgreSQL.

Every target replaces whole days atomically, so readers see the old day or the new day, never
half of one. See each module's docstring for how that is achieved per target.
"""

from pipelines.lib.publish.duckdb_target import PINNED_STORAGE_VERSION, publish_duckdb
from pipelines.lib.publish.parquet_target import publish_parquet
from pipelines.lib.publish.pg_types import postgres_type
from pipelines.lib.publish.postgres_target import publish_postgres
from pipelines.lib.publish.result import MartPublishResult, PublishError, PublishResult
from pipelines.lib.publish.spec import MartSpec, quote_ident, validate_identifier
from pipelines.lib.publish.urls import describe_target, redact_url

__all__ = [
    "PINNED_STORAGE_VERSION",
    "MartPublishResult",
    "MartSpec",
    "PublishError",
    "PublishResult",
    "describe_target",
    "postgres_type",
    "publish_duckdb",
    "publish_parquet",
    "publish_postgres",
    "quote_ident",
    "redact_url",
    "validate_identifier",
]

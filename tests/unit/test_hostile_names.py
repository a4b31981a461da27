"""Identifiers from configuration are checked against a strict pattern before they reach SQL.

Each hostile name is fed to every place that takes an identifier from configuration: funnel
ids and stage names (funnels.yml), event-parameter keys in filters, the publish MartSpec
(table, partition and key columns), the PostgreSQL schema name, the dbt var
`microfunnel__reprocess_from` and the SQL helpers' code-constant names. Values (event names,
campaigns, filter values) are data: they reach dbt as tables, never as SQL text.
"""

from __future__ import annotations

from types import SimpleNamespace

import jinja2
import pytest

from pipelines.lib.funnels import FunnelConfigError, parse_funnels
from pipelines.lib.ingest.sql import temp_name, url_param
from pipelines.lib.publish.spec import MartSpec, quote_ident, validate_identifier
from pipelines.lib.settings import DBT_PROJECT_DIR

HOSTILE = [
    "x; drop table t",
    'a"b',
    "a'b",
    "../etc",
    "\u0455tage",  # Cyrillic dze, looks like "stage"
    "stag\u0435",  # Cyrillic ie, looks like "stage"
    "a" * 64,
    "",
    "abc\n",
    "abc -- comment",
    "a.b",
]
IDS = [
    "semicolon",
    "double_quote",
    "single_quote",
    "dotdot",
    "lookalike_s",
    "lookalike_e",
    "64_chars",
    "empty",
    "trailing_newline",
    "sql_comment",
    "dotted",
]
hostile = pytest.mark.parametrize("name", HOSTILE, ids=IDS)


def funnel_yaml(funnel_id: str = "f1", stage: str = "hook", field: str = "utm_source") -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    return f"""
funnels:
  - id: {q(funnel_id)}
    kind: micro
    primary: true
    stages:
      - name: {q(stage)}
        events:
          - {{name: session_start, where: [{{field: {q(field)}, op: eq, value: x}}]}}
      - name: done
        events: [purchase]
"""


def test_the_valid_template_loads():
    assert parse_funnels(funnel_yaml(), "funnels.yml").primary.id == "f1"


@hostile
def test_hostile_funnel_ids_are_rejected_naming_the_field(name):
    with pytest.raises(
        FunnelConfigError, match=r"funnels\.yml: funnels\[0\]: id: invalid funnel id"
    ):
        parse_funnels(funnel_yaml(funnel_id=name), "funnels.yml")


@hostile
def test_hostile_stage_names_are_rejected(name):
    with pytest.raises(FunnelConfigError, match=r"stages\[0\]\.name: invalid stage name"):
        parse_funnels(funnel_yaml(stage=name), "funnels.yml")


@hostile
def test_hostile_parameter_keys_in_filters_are_rejected(name):
    if name == "a" * 64:
        name = "a" * 101  # parameter keys may be up to 100 characters
    with pytest.raises(FunnelConfigError, match=r"invalid parameter key|unknown field"):
        parse_funnels(funnel_yaml(field="param." + name), "funnels.yml")


@hostile
def test_hostile_mart_table_names_are_rejected(name):
    with pytest.raises(ValueError, match="invalid table name"):
        MartSpec(table=name, partition_column="cohort_date", primary_key=("id",))


@hostile
def test_hostile_partition_and_key_columns_are_rejected(name):
    with pytest.raises(ValueError, match="invalid partition column"):
        MartSpec(table="t", partition_column=name, primary_key=("id",))
    with pytest.raises(ValueError, match="invalid primary key column"):
        MartSpec(table="t", partition_column="cohort_date", primary_key=(name,))


@hostile
def test_hostile_schema_names_are_rejected_and_never_quoted(name):
    with pytest.raises(ValueError, match="invalid schema name"):
        validate_identifier(name, "schema name")
    with pytest.raises(ValueError, match="invalid identifier"):
        quote_ident(name)


def test_valid_identifiers_are_quoted():
    assert quote_ident("agg_funnel_stages_daily") == '"agg_funnel_stages_daily"'


@hostile
def test_sql_helpers_refuse_hostile_code_names(name):
    with pytest.raises(ValueError, match="not a safe"):
        temp_name(name)
    with pytest.raises(ValueError, match="not a safe"):
        url_param("page_url", name)


class _MacroReturn(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _CompilerError(Exception):
    pass


def render_reprocess_from(value: object) -> object:
    """Run the dbt macro `reprocess_from()` with plain Jinja, dbt's `return`/`var` stubbed."""
    macros = (DBT_PROJECT_DIR / "macros" / "reprocessing.sql").read_text()

    def _return(result: object) -> str:
        raise _MacroReturn(result)

    def _raise(message: str) -> str:
        raise _CompilerError(message)

    import re

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    template = env.from_string(macros + "{{ reprocess_from() }}")
    try:
        template.render(
            var=lambda name: value,
            modules=SimpleNamespace(re=re),
            exceptions=SimpleNamespace(raise_compiler_error=_raise),
            **{"return": _return},
        )
    except _MacroReturn as done:
        return done.value
    raise AssertionError("macro returned nothing")


def test_the_reprocess_from_var_accepts_an_iso_date():
    assert render_reprocess_from("2024-03-01") == "2024-03-01"
    assert render_reprocess_from(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01' or 1=1 --",
        "2024-03-01\n",
        "x; drop table t",
        "../etc",
        "\uff12\uff10\uff12\uff14-03-01",
        "",
    ],
)
def test_the_reprocess_from_var_rejects_anything_but_an_iso_date(value):
    if value == "":
        assert render_reprocess_from(value) is None  # empty means a full build
        return
    with pytest.raises(_CompilerError, match="must be an ISO date"):
        render_reprocess_from(value)


def test_dbt_vars_only_take_dates():
    from datetime import date

    from pipelines.lib.dbt_vars import dbt_vars

    assert dbt_vars(date(2024, 3, 1), 3)["microfunnel__reprocess_from"] == "2024-03-01"
    with pytest.raises(AttributeError):
        dbt_vars("x; drop table t", 3)  # type: ignore[arg-type]

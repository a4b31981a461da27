"""Development tools the tests and the benchmarks share, outside both so that neither imports
the other, and outside the shipped package (pyproject installs `pipelines` only):

- `harness.dbt_sql`: the project's compiled dbt SQL run on in-memory inputs (`SqlHarness`);
- `harness.windowfunnel`: the funnel compared with ClickHouse `windowFunnel` (through chdb).
"""

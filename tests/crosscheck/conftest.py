from tests.sql_harness import sql_harness  # noqa: F401  (session fixture: the compiled project)

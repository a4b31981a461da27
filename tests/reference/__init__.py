"""Pure-Python references of the funnel engine and the marts: the test oracles the dbt SQL
must equal. Test code only: nothing under pipelines/ imports them."""

# Every target installs what it needs: a fresh clone runs `make demo` or `make test` directly.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install install-spark prepare demo test test-fast lint ui bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The `spark` dbt target: dbt-spark and pyspark (about 490 MB, so not in the default install)
# and a Java runtime (Debian's openjdk-17-jre-headless when `java` is missing).
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-spark.lock
	touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP)
	sh scripts/ensure_java.sh

# dbt's manifest, which the Dagster definitions are built from (`microfunnel run` and the test
# session parse it themselves; `dg dev` re-parses on each load).
prepare: $(STAMP)
	$(BIN)/python -c "from pipelines.lib.dbt_project import prepare_dbt_project; prepare_dbt_project()"

demo: $(STAMP)
	$(BIN)/microfunnel demo

# Two workers (xdist); a module's tests stay on one worker so its shared warehouse is built once.
PYTEST_PARALLEL := -n 2 --dist loadscope --durations=15

# CI runs this: every linter (lint), then the whole suite.
test: lint $(SPARK_STAMP)
	sh scripts/ensure_chromium.sh || echo "no Chromium: the report's browser tests will skip"
	sh scripts/ensure_java.sh || echo "no Java: the Spark tests will skip"
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# The inner loop: unit and property tests at few examples, no end-to-end runs (about 3 minutes).
test-fast: $(STAMP)
	$(BIN)/ruff check pipelines tests benchmarks harness
	MICROFUNNEL_PROPERTY_EXAMPLES=8 $(BIN)/python -m pytest -q -m "not slow" -n 2 tests/unit tests/property

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests benchmarks harness
	$(BIN)/ruff format --check pipelines tests benchmarks harness
	$(BIN)/mypy
	# sqlfluff's dbt templater opens the warehouse: give it an empty one of its own.
	mkdir -p data/lint-warehouse
	# The macros' SQL is linted where the models render it (dbt_project/.sqlfluff).
	cd dbt_project && MICROFUNNEL_WAREHOUSE_DIR=$(CURDIR)/data/lint-warehouse ../$(BIN)/sqlfluff lint models tests

ui: $(STAMP)
	$(BIN)/microfunnel ui

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_nightly.py

clean:
	rm -rf $(VENV) .dagster_home data

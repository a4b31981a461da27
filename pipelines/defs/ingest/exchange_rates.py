"""Exchange-rate files -> the lake's rates table, which dbt uses to convert spend."""

import uuid
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.ingest.landing_exports import EXCHANGE_RATE_FILES
from pipelines.defs.shared import LAKE_POOL, OWNERS, MicrofunnelResource, run_started_at
from pipelines.lib.ingest.exchange_rates import SOURCE, load_exchange_rates
from pipelines.lib.ingest.sql import quote_literal
from pipelines.lib.landing_files import all_files

EXCHANGE_RATES = "exchange_rates"
RATES_FILE = "rates.parquet"
REJECTED_FILE = "quarantine.parquet"


def build_exchange_rates(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=EXCHANGE_RATES,
        group_name="ingest",
        kinds={"csv", "parquet"},
        owners=OWNERS,
        deps=[EXCHANGE_RATE_FILES],
        # Partitioned like everything it feeds so a day's run carries the current rates.
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=LAKE_POOL,
        description=(
            "Every exchange-rate file in <landing>/exchange_rates/ (date, base_currency, "
            "quote_currency, rate), validated, as <warehouse>/lake/exchange_rates/rates.parquet "
            "(unusable lines in quarantine.parquet beside it, with file, line and reason). "
            "Always written, empty when no file exists: spend already in the reporting "
            "currency needs no rate."
        ),
    )
    def exchange_rates(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        files = all_files(settings.landing_dir, "exchange_rates", (".csv",))
        folder = settings.lake_dir / EXCHANGE_RATES
        with settings.duckdb_memory.apply(duckdb.connect(), "ingest-rates") as con:
            result = load_exchange_rates(con, files, run_started_at())
            context.log.info(result.describe())
            _replace(con, result.table, folder / RATES_FILE)
            _replace(con, result.quarantine_table, folder / REJECTED_FILE)
            result.drop(con)
        if result.quarantined:
            context.log.warning(
                f"{SOURCE}: {result.quarantined} line(s) quarantined, see {folder / REJECTED_FILE}"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "files_read": result.files_read,
                "rows_landed": result.landed,
                "rows_loaded": result.loaded,
                "rows_quarantined": result.quarantined,
                "dates": f"{result.min_date} .. {result.max_date}" if result.min_date else "none",
                "rates_file": dg.MetadataValue.path(str(folder / RATES_FILE)),
            }
        )

    return exchange_rates


def _replace(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Write a whole table as one Parquet file, swapped in so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        con.execute(f"copy (select * from {table}) to {quote_literal(str(tmp))} (format parquet)")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_exchange_rates(partitions), EXCHANGE_RATE_FILES])

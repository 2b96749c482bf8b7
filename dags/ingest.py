"""
### rightsend_ingest - landing zone to the raw warehouse, exactly once

Loads every file landed under `<landing>/<source>/dt=YYYY-MM-DD/` up to the run's date that
is not yet in the manifest (late files in old `dt=` folders included), normalises it
(UTC timestamps, lower-case emails, E.164 phones), quarantines bad rows with file, line and
reason, applies erasure requests, and validates each new batch with Great Expectations.
Re-running loads nothing twice. Emits `rightsend://warehouse/raw` for the dbt build.
"""

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from rightsend.dag_defaults import DEFAULT_ARGS, RAW, START_DATE, WAREHOUSE_POOL, resolve_run_date


@dag(
    dag_id="rightsend_ingest",
    # Daily at 02:00 UTC, for the day that just ended: a data-interval timetable gives the
    # run the logical date D = yesterday (Airflow 3's plain cron would give today).
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["rightsend", "ingest"],
)
def rightsend_ingest():
    @task(pool=WAREHOUSE_POOL, outlets=[RAW])
    def load_landed_files(**context) -> dict:
        from rightsend import ingest
        from rightsend.summary import run_stage

        run_date = resolve_run_date(context)
        result = run_stage("ingest", ingest.run, run_date)
        context["outlet_events"][RAW].extra = {"run_date": run_date}
        return {"run_date": run_date, "files_loaded": len(result["files"]["loaded"])}

    load_landed_files()


rightsend_ingest()

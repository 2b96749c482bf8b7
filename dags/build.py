"""
### rightsend_build - dbt: staging, intermediate and marts

Runs the dbt project (`dbt_project/`) through astronomer-cosmos: one Airflow task per
model, seed and snapshot, each a `dbt build` of that node, so its data tests and unit tests
run with it and a failure stops what depends on it. On DuckDB (one writer) every dbt
task takes the single-slot `warehouse` pool. Triggered by fresh raw data; emits
`rightsend://warehouse/marts`.
"""

from airflow.sdk import dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from rightsend.config import DBT_PROJECT_DIR, Settings
from rightsend.dag_defaults import (
    DEFAULT_ARGS,
    MARTS,
    RAW,
    START_DATE,
    WAREHOUSE_POOL,
    resolve_run_date,
    run_date_macro,
)
from rightsend.transform import MANIFEST


@dag(
    dag_id="rightsend_build",
    schedule=[RAW],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["rightsend", "dbt"],
    user_defined_macros={"run_date": run_date_macro},
)
def rightsend_build():
    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=MANIFEST),
        profile_config=ProfileConfig(
            profile_name="rightsend",
            target_name=Settings.from_env().target,  # RIGHTSEND_TARGET: duckdb or postgres
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # A node's build runs only the tests wholly about it; tests spanning models
            # (relationships) run once every model exists, in test_across_models.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if MANIFEST.exists() else LoadMode.DBT_LS,
            test_behavior=TestBehavior.BUILD,
        ),
        operator_args={
            "vars": {"run_date": "{{ run_date(dag_run, triggering_asset_events) }}"},
            "install_deps": False,
            "emit_datasets": False,
            "pool": WAREHOUSE_POOL,
            "callback": "rightsend.transform.keep_run_results",
        },
    )

    @task(outlets=[MARTS])
    def tally_build(**context) -> dict:
        from rightsend.summary import run_stage
        from rightsend.transform import tally

        run_date = resolve_run_date(context)
        result = run_stage("build", tally, run_date)
        context["outlet_events"][MARTS].extra = {"run_date": run_date}
        return {"run_date": run_date, "models_built": result["models_built"]}

    @task(pool=WAREHOUSE_POOL)
    def test_across_models(**context) -> None:
        from rightsend.config import Settings
        from rightsend.transform import dbt, keep_run_results

        dbt(["test"], Settings.from_env(), resolve_run_date(context))
        keep_run_results(str(DBT_PROJECT_DIR), context)

    @task(pool=WAREHOUSE_POOL)
    def clear_previous_tally(**context) -> None:
        import shutil

        from rightsend.config import Settings

        runs = Settings.from_env().runs_dir(resolve_run_date(context)) / "dbt"
        shutil.rmtree(runs, ignore_errors=True)

    clear_previous_tally() >> dbt >> test_across_models() >> tally_build()


rightsend_build()

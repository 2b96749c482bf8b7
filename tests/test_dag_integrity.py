"""Every DAG imports cleanly, is documented, owned and retried, and stays light to parse."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from rightsend.config import PROJECT_ROOT
from rightsend.orchestrate import CHAIN

HEAVY = ("pandas", "numpy", "lightgbm", "duckdb", "great_expectations", "sklearn")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    from airflow.dag_processing.dagbag import DagBag

    from rightsend.config import Settings
    from rightsend.orchestrate import prepare_airflow
    from rightsend.transform import ensure_manifest

    prepare_airflow(Settings.from_env())  # a metadata DB of its own, under the test's AIRFLOW_HOME
    ensure_manifest(Settings.from_env())  # Cosmos renders the build DAG from the manifest
    return DagBag(str(PROJECT_ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_the_chain_is_all_there(dagbag) -> None:
    assert set(CHAIN) <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", CHAIN)
def test_dag_is_documented_owned_and_retried(dagbag, dag_id: str) -> None:
    dag = dagbag.get_dag(dag_id)
    assert dag.doc_md and dag.doc_md.strip().startswith(f"### {dag_id}")
    assert "rightsend" in dag.tags
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.owner == "data-eng", task.task_id
        assert task.retries >= 0


def test_chain_is_linked_by_assets(dagbag) -> None:
    def uris(objs) -> set[str]:
        return {getattr(o, "uri", None) for o in objs}

    ingest = dagbag.get_dag("rightsend_ingest")
    outlets = {uri for t in ingest.tasks for uri in uris(t.outlets)}
    assert "rightsend://warehouse/raw" in outlets
    build = dagbag.get_dag("rightsend_build")
    assert "rightsend://warehouse/raw" in str(build.timetable.asset_condition)
    assert "rightsend://warehouse/marts" in str(dagbag.get_dag("rightsend_train").timetable.asset_condition)
    assert "rightsend://models/champion" in str(dagbag.get_dag("rightsend_daily").timetable.asset_condition)


@pytest.mark.parametrize(
    ("now", "day"),
    [
        ("2026-12-03T00:35:00+00:00", "2026-12-01"),  # before 02:00 the last slot is two days back
        ("2026-12-03T01:59:59+00:00", "2026-12-01"),
        ("2026-12-03T02:00:00+00:00", "2026-12-02"),
        ("2026-12-03T23:10:00+00:00", "2026-12-02"),
    ],
)
def test_scheduled_day_is_the_slot_the_ingest_timetable_runs_next(dagbag, now: str, day: str) -> None:
    """stack.trigger takes the scheduler's own slot, so unpausing adds no second run."""
    from airflow.timetables.base import DataInterval, TimeRestriction

    from rightsend import stack

    moment = datetime.fromisoformat(now)
    assert stack.scheduled_day(moment) == day
    timetable = dagbag.get_dag("rightsend_ingest").timetable
    slot = datetime.fromisoformat(f"{day}T02:00:00+00:00")
    covered = DataInterval(slot, slot + timedelta(days=1))
    after = timetable.next_dagrun_info(
        last_automated_data_interval=covered,
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    # the slot's interval has ended by `now`; the next one has not
    assert covered.end <= moment < after.data_interval.end
    assert after.logical_date == covered.start + timedelta(days=1)


def test_every_dbt_task_takes_the_single_writer_pool(dagbag) -> None:
    build = dagbag.get_dag("rightsend_build")
    dbt_tasks = [t for t in build.tasks if t.task_id.startswith("dbt.")]
    assert len(dbt_tasks) > 10
    assert {t.pool for t in dbt_tasks} == {"warehouse"}
    assert build.max_active_tasks == 1


def test_dag_files_import_no_heavy_modules_at_top_level() -> None:
    code = (
        "import importlib.util, sys, pathlib\n"
        f"for f in sorted(pathlib.Path({str(PROJECT_ROOT / 'dags')!r}).glob('*.py')):\n"
        "    if f.name in ('build.py',): continue\n"
        "    spec = importlib.util.spec_from_file_location(f.stem, f)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_daily_maps_scoring_and_dispatch_over_buckets(dagbag) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    daily = dagbag.get_dag("rightsend_daily")
    tasks = {t.task_id: t for t in daily.tasks}
    assert set(tasks) == {"plan", "score", "decide", "dispatch", "queued", "exports"}
    assert {i for i, t in tasks.items() if isinstance(t, MappedOperator)} == {"score", "dispatch"}
    assert tasks["decide"].upstream_task_ids == {"score"}  # one global decide after every bucket
    assert tasks["dispatch"].upstream_task_ids == {"plan", "decide"}
    assert tasks["queued"].upstream_task_ids == {"dispatch"} == tasks["exports"].upstream_task_ids
    assert {t.pool for i, t in tasks.items() if i in ("score", "decide", "dispatch")} == {"warehouse"}
    outlets = {i: [o.uri for o in t.outlets] for i, t in tasks.items() if t.outlets}
    assert outlets == {"queued": ["rightsend://queue/messages"]}  # once, after every bucket


def test_daily_plan_pins_one_champion_version_for_every_score_bucket(dagbag, settings, monkeypatch) -> None:
    from models_ml import registry

    for name, value in {**settings.as_env(), "RIGHTSEND_BUCKETS": "3"}.items():
        monkeypatch.setenv(name, value)
    tasks = {t.task_id: t for t in dagbag.get_dag("rightsend_daily").tasks}
    plan = tasks["plan"].python_callable
    # no champion yet: nothing to pin, each bucket scores with whatever champion it finds
    assert plan() == [{"bucket": b, "buckets": 3, "model_version": None} for b in range(3)]
    info = registry.save(settings, "2026-11-20-0123abcd", "tree\n", {"run_date": "2026-11-20"})
    registry.promote(settings, info, "test")
    planned = plan()
    assert [p["model_version"] for p in planned] == ["2026-11-20-0123abcd"] * 3
    # dispatch maps over the same buckets, without the model version
    (to_dispatch,) = tasks["dispatch"].op_kwargs_expand_input.value.callables
    assert [to_dispatch(p) for p in planned] == [{"bucket": b, "buckets": 3} for b in range(3)]

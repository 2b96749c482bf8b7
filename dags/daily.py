"""
### rightsend_daily - score, decide, queue, dispatch, export

On the champion model (`plan` pins its version for the whole run): scores every reachable
person's channels and hours for their local day D+1, decides who gets which message (consent,
suppression, caps, priority, one channel, quiet hours, holdout), writes the outbox and
`queue/dt=D/messages.{csv,parquet}`, publishes the non-holdout messages to the broker exactly
once, and writes the marketers' exports and report under `exports/dt=D/`.

Scoring and dispatch are mapped over buckets of people (`RIGHTSEND_BUCKETS`, default 4;
`plan` fixes them once per run), so more Celery workers finish sooner when the `warehouse`
pool has more than one slot (`RIGHTSEND_WAREHOUSE_SLOTS`: keep 1 on DuckDB, raise it on
Postgres). Every score bucket uses the champion version `plan` resolved, so a promotion while
the buckets run cannot score one day with two models. `decide` stays one task: throughput
spreading and caps need everybody at once, and it is cheap next to scoring. `queued` emits the
queue Asset once every bucket is published.
"""

from typing import Any

from airflow.sdk import dag, task

from rightsend.dag_defaults import (
    CHAMPION,
    DEFAULT_ARGS,
    QUEUE,
    START_DATE,
    WAREHOUSE_POOL,
    resolve_run_date,
)

BUCKET_LABEL = "bucket {{ task.op_kwargs['bucket'] }} of {{ task.op_kwargs['buckets'] }}"


def _bucket_only(planned: dict[str, Any]) -> dict[str, Any]:
    """dispatch's kwargs from plan's: its bucket and the count (the model is scoring's)."""
    return {"bucket": planned["bucket"], "buckets": planned["buckets"]}


@dag(
    dag_id="rightsend_daily",
    schedule=[CHAMPION],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["rightsend", "decide", "exports"],
)
def rightsend_daily():
    @task
    def plan() -> list[dict[str, Any]]:
        """The buckets of this run: every mapped task gets its bucket and the same count, and
        every score bucket the same champion version, resolved here once, so a promotion while
        the buckets run cannot score one day with two models."""
        from models_ml.registry import champion
        from rightsend.buckets import bucket_count
        from rightsend.config import Settings

        info = champion(Settings.from_env())
        version = info.version if info else None  # none yet: scoring trains the first (cold start)
        n = bucket_count()
        return [{"bucket": b, "buckets": n, "model_version": version} for b in range(n)]

    @task(pool=WAREHOUSE_POOL, map_index_template=BUCKET_LABEL)
    def score(bucket: int, buckets: int, model_version: str | None, **context) -> int:
        from functools import partial

        from models_ml import predict
        from rightsend.summary import run_stage

        pinned = partial(predict.run, model_version=model_version)
        result = run_stage("score", pinned, resolve_run_date(context), bucket=bucket, buckets=buckets)
        return int(result["rows"])

    @task(pool=WAREHOUSE_POOL)
    def decide(**context) -> str:
        """One task over everybody: spreading and caps need the global view (and it is cheap)."""
        from rightsend import decide as decision
        from rightsend.summary import run_stage

        run_date = resolve_run_date(context)
        run_stage("decide", decision.run, run_date)
        return run_date

    @task(pool=WAREHOUSE_POOL, map_index_template=BUCKET_LABEL)
    def dispatch(bucket: int, buckets: int, **context) -> int:
        from rightsend import dispatch as dispatcher
        from rightsend.summary import run_stage

        result = run_stage(
            "dispatch", dispatcher.run, resolve_run_date(context), bucket=bucket, buckets=buckets
        )
        return int(result["published"])

    @task(outlets=[QUEUE])
    def queued(**context) -> str:
        """The day's messages are all with the broker: one Asset event, after every bucket."""
        run_date = resolve_run_date(context)
        context["outlet_events"][QUEUE].extra = {"run_date": run_date}
        return run_date

    @task
    def exports(**context) -> str:
        from rightsend import exports as marketer_exports
        from rightsend.summary import run_stage

        run_date = resolve_run_date(context)
        run_stage("exports", marketer_exports.run, run_date)
        return run_date

    buckets = plan()
    scored = score.expand_kwargs(buckets)
    decided = decide()
    dispatched = dispatch.expand_kwargs(buckets.map(_bucket_only))
    scored >> decided >> dispatched >> [queued(), exports()]


rightsend_daily()

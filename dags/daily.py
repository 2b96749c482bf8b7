"""
### rightsend_daily - score, decide, queue, dispatch, export

On the current champion model: scores every reachable person's channels and hours for
their local day D+1, decides who gets which message (consent, suppression, caps, priority,
one channel, quiet hours, holdout), writes the outbox and `queue/dt=D/messages.{csv,parquet}`,
publishes the non-holdout messages to the broker exactly once, and writes the marketers'
exports and report under `exports/dt=D/`.
"""

from airflow.sdk import dag, task

from rightsend.dag_defaults import (
    CHAMPION,
    DEFAULT_ARGS,
    QUEUE,
    START_DATE,
    WAREHOUSE_POOL,
    resolve_run_date,
)


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
    @task(pool=WAREHOUSE_POOL)
    def score(**context) -> str:
        from models_ml import predict
        from rightsend.summary import run_stage

        run_date = resolve_run_date(context)
        run_stage("score", predict.run, run_date)
        return run_date

    @task(pool=WAREHOUSE_POOL)
    def decide(run_date: str) -> str:
        from rightsend import decide as decision
        from rightsend.summary import run_stage

        run_stage("decide", decision.run, run_date)
        return run_date

    @task(pool=WAREHOUSE_POOL, outlets=[QUEUE])
    def dispatch(run_date: str, **context) -> str:
        from rightsend import dispatch as dispatcher
        from rightsend.summary import run_stage

        run_stage("dispatch", dispatcher.run, run_date)
        context["outlet_events"][QUEUE].extra = {"run_date": run_date}
        return run_date

    @task
    def exports(run_date: str) -> str:
        from rightsend import exports as marketer_exports
        from rightsend.summary import run_stage

        run_stage("exports", marketer_exports.run, run_date)
        return run_date

    exports(dispatch(decide(score())))


rightsend_daily()

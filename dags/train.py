"""
### rightsend_train - the send-time and channel model

Runs after every dbt build and trains a new LightGBM model when one is due: no champion
yet, or the champion is a week old. A new model replaces the champion only if it is not
worse on the held-out period. Always emits `rightsend://models/champion`, so the daily
scoring runs on the model that is champion now.
"""

from airflow.sdk import dag, task

from rightsend.dag_defaults import CHAMPION, DEFAULT_ARGS, MARTS, START_DATE, resolve_run_date


@dag(
    dag_id="rightsend_train",
    schedule=[MARTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["rightsend", "model"],
)
def rightsend_train():
    @task(outlets=[CHAMPION])
    def train_when_due(**context) -> dict:
        from models_ml import train
        from rightsend.summary import run_stage

        run_date = resolve_run_date(context)
        result = run_stage("train", train.run, run_date)
        context["outlet_events"][CHAMPION].extra = {"run_date": run_date}
        return {"run_date": run_date, "trained": result.get("trained"), "version": result.get("version")}

    train_when_due()


rightsend_train()

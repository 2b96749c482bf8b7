"""The production topology on this machine: Airflow with the CeleryExecutor on Postgres and Redis.

docker-compose.yaml runs this layout in containers. This module runs the same components as
native processes, for `make stack` / `make stack-down` and for tests/deploy/test_celery_stack.py:

    api-server      REST API v2, UI and the execution API the workers' tasks talk to
    scheduler       schedules runs (cron and Assets) and queues task instances to Celery
    dag-processor   parses dags/ (a separate component since Airflow 3)
    triggerer       runs deferred tasks
    celery worker   executes tasks (broker: Redis; result backend: the metadata Postgres)

Metadata lives in a Postgres database of its own, the broker in a dedicated Redis DB number,
everything else (airflow.cfg defaults, logs, pids, generated secrets) under one AIRFLOW_HOME.
Each component runs in its own session (process group), so stopping it stops its children.

    python -m rightsend.stack up        # start (or restart) and wait until healthy
    python -m rightsend.stack status
    python -m rightsend.stack trigger --date 2026-11-20
    python -m rightsend.stack down [--drop-db]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rightsend.buckets import ENV_WAREHOUSE_SLOTS, POOL_DESCRIPTION, warehouse_slots
from rightsend.config import PROJECT_ROOT, Settings

CHAIN = ("rightsend_ingest", "rightsend_build", "rightsend_train", "rightsend_daily")
# The pool every warehouse task takes; its slots come from RIGHTSEND_WAREHOUSE_SLOTS
# (rightsend.buckets.warehouse_slots: 1 on DuckDB, more on Postgres for parallel buckets).
WAREHOUSE_POOL = ("warehouse", ENV_WAREHOUSE_SLOTS, POOL_DESCRIPTION)

# Settings that make the topology. docker-compose.yaml must set the same values
# (tests/deploy/test_compose.py checks it); host names, ports and secrets differ.
TOPOLOGY: dict[str, str] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    # @daily runs get logical date = start of the day they cover (D), not the trigger instant:
    # the run that starts just after midnight processes yesterday, the complete day.
    "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "True",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
}
# URL schemes of the metadata DB, broker and result backend (compose uses the same).
SCHEMES = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://",
    "AIRFLOW__CELERY__BROKER_URL": "redis://",
    "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql+psycopg2://",
}
# (name, airflow CLI arguments); the api-server and worker get host/port/concurrency added.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("api-server", ("api-server",)),
    ("scheduler", ("scheduler",)),
    ("dag-processor", ("dag-processor",)),
    ("triggerer", ("triggerer",)),
    ("celery-worker", ("celery", "worker")),
)
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


class StackError(RuntimeError):
    """The stack could not be started, became unhealthy, or a run failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class StackConfig:
    """Where the native stack keeps its state and which services it uses."""

    home: Path
    database: str = "rightsend_airflow"
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    redis_url: str = "redis://127.0.0.1:6379/10"
    port: int = 8080
    concurrency: int = 2
    triggerer: bool = True
    dags_folder: Path = PROJECT_ROOT / "dags"
    settings: Settings = field(default_factory=Settings.from_env)
    admin_user: str = "admin"
    # Celery queue of this stack's tasks and worker: give each stack sharing a Redis DB its own.
    queue: str = "default"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, home: Path | None = None) -> StackConfig:
        env = os.environ.get
        return cls(
            home=Path(home or env("RIGHTSEND_STACK_HOME", PROJECT_ROOT / ".airflow" / "stack")).resolve(),
            database=env("RIGHTSEND_STACK_DB", "rightsend_airflow"),
            pg_host=env("RIGHTSEND_PG_HOST", "127.0.0.1"),
            pg_port=int(env("RIGHTSEND_PG_PORT", "5432")),
            pg_user=env("RIGHTSEND_PG_USER", "postgres"),
            pg_password=env("RIGHTSEND_PG_PASSWORD", ""),
            redis_url=env("RIGHTSEND_STACK_REDIS_URL", "redis://127.0.0.1:6379/10"),
            port=int(env("RIGHTSEND_STACK_PORT", "8080")),
            concurrency=int(env("CELERY_WORKER_CONCURRENCY", "2")),
        )

    # -- derived ---------------------------------------------------------------------------
    def pg_dsn(self, database: str | None = None) -> str:
        auth = self.pg_user + (f":{self.pg_password}" if self.pg_password else "")
        return f"{auth}@{self.pg_host}:{self.pg_port}/{database or self.database}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.home / "stack.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "stack-logs"

    def _secrets(self) -> dict[str, str]:
        """Fernet key, JWT and API secrets: from the environment, else generated once and kept."""
        path = self.home / "secrets.json"
        kept = json.loads(path.read_text()) if path.exists() else {}
        if not kept:
            from cryptography.fernet import Fernet

            kept = {
                "fernet_key": Fernet.generate_key().decode(),
                "jwt_secret": secrets.token_urlsafe(32),
                "api_secret_key": secrets.token_urlsafe(32),
            }
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(kept))
            path.chmod(0o600)
        return {
            "fernet_key": os.environ.get("AIRFLOW_FERNET_KEY") or kept["fernet_key"],
            "jwt_secret": os.environ.get("AIRFLOW_JWT_SECRET") or kept["jwt_secret"],
            "api_secret_key": os.environ.get("AIRFLOW_API_SECRET_KEY") or kept["api_secret_key"],
        }

    @property
    def passwords_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json.generated"

    def admin_password(self) -> str:
        """The API/UI admin's password (simple auth manager): env, else generated once."""
        if self.passwords_file.exists():
            stored = json.loads(self.passwords_file.read_text() or "{}")
            if self.admin_user in stored:
                return str(stored[self.admin_user])
        password = os.environ.get("AIRFLOW_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        self.home.mkdir(parents=True, exist_ok=True)
        self.passwords_file.write_text(json.dumps({self.admin_user: password}) + "\n")
        self.passwords_file.chmod(0o600)
        return password

    def env(self) -> dict[str, str]:
        """The complete environment of every component (and of the airflow CLI used on it)."""
        keys = self._secrets()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")},
            **self.settings.as_env(),
            **TOPOLOGY,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.admin_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{self.pg_dsn()}",
            "AIRFLOW__CELERY__BROKER_URL": self.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{self.pg_dsn()}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("RIGHTSEND_LOG_LEVEL", "INFO"),
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.extra_env)
        return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# -- Postgres and Redis ----------------------------------------------------------------------
def _pg_connect(cfg: StackConfig, database: str = "postgres"):
    import psycopg2

    conn = psycopg2.connect(
        host=cfg.pg_host,
        port=cfg.pg_port,
        user=cfg.pg_user,
        password=cfg.pg_password or None,
        dbname=database,
        connect_timeout=3,
    )
    conn.autocommit = True
    return conn


def services_reachable(cfg: StackConfig) -> str | None:
    """None when Postgres and Redis answer; otherwise why not."""
    try:
        _pg_connect(cfg).close()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"Postgres at {cfg.pg_host}:{cfg.pg_port} unreachable: {str(error).strip()}"
    try:
        import redis

        redis.Redis.from_url(cfg.redis_url, socket_connect_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis at {cfg.redis_url} unreachable: {error}"
    return None


def create_database(cfg: StackConfig, recreate: bool = False) -> bool:
    """Create the metadata database; True if it was created now."""
    from psycopg2 import sql

    with contextlib.closing(_pg_connect(cfg)) as conn, conn.cursor() as cur:
        if recreate:
            _terminate(cur, cfg.database)
            cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(cfg.database)))
        cur.execute("select 1 from pg_database where datname = %s", (cfg.database,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(cfg.database)))
        return True


def drop_database(cfg: StackConfig) -> None:
    from psycopg2 import sql

    with contextlib.closing(_pg_connect(cfg)) as conn, conn.cursor() as cur:
        _terminate(cur, cfg.database)
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(cfg.database)))


def _terminate(cur: Any, database: str) -> None:
    cur.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
        (database,),
    )


def purge_queue(cfg: StackConfig) -> None:
    """Drop the messages left in this stack's Celery queue (not the whole Redis DB: other
    stacks, e.g. concurrent test sessions, may share it with queues of their own)."""
    import redis

    redis.Redis.from_url(cfg.redis_url).delete(cfg.queue)


# -- Airflow CLI -----------------------------------------------------------------------------
def airflow_cli(cfg: StackConfig, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [_bin("airflow"), *args], env=cfg.env(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise StackError(f"airflow {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def prepare(cfg: StackConfig, fresh: bool = False, parse_dbt: bool = True) -> None:
    """Database, schema migrations, the warehouse pool, admin password, dbt manifest."""
    cfg.home.mkdir(parents=True, exist_ok=True)
    create_database(cfg, recreate=fresh)
    airflow_cli(cfg, "db", "migrate")
    name, _, description = WAREHOUSE_POOL
    airflow_cli(cfg, "pools", "set", name, str(warehouse_slots()), description)
    cfg.admin_password()
    if parse_dbt and cfg.dags_folder.resolve() == (PROJECT_ROOT / "dags").resolve():
        # Cosmos renders rightsend_build from the manifest: parse before the dag-processor starts.
        from rightsend.transform import ensure_manifest

        ensure_manifest(cfg.settings)


# -- processes -------------------------------------------------------------------------------
def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (None if it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _is_ours(entry: list[int]) -> bool:
    """The recorded process still runs: same pid and same start time (guards against pid reuse;
    the environment cannot be used, Airflow's process titles overwrite it)."""
    pid, started = entry
    return _start_time(pid) == started


def _write_state(cfg: StackConfig, procs: dict[str, subprocess.Popen]) -> None:
    state = {
        "pids": {name: [proc.pid, _start_time(proc.pid)] for name, proc in procs.items()},
        "port": cfg.port,
        "database": cfg.database,
        "redis_url": cfg.redis_url,
    }
    cfg.state_file.write_text(json.dumps(state, indent=2) + "\n")


def read_state(cfg: StackConfig) -> dict[str, Any]:
    return json.loads(cfg.state_file.read_text()) if cfg.state_file.exists() else {}


def start(cfg: StackConfig) -> dict[str, subprocess.Popen]:
    """Start every component in its own session; logs in <home>/stack-logs/<component>.log."""
    if any(_is_ours(entry) for entry in read_state(cfg).get("pids", {}).values()):
        raise StackError(f"a stack is already running from {cfg.home}: stop it first (make stack-down)")
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    worker_log_port, trigger_log_port = free_port(), free_port()
    env = {
        **cfg.env(),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
    }
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, args in COMPONENTS:
            if name == "triggerer" and not cfg.triggerer:
                continue
            argv = [_bin("airflow"), *args]
            if name == "api-server":
                argv += ["--host", "127.0.0.1", "--port", str(cfg.port), "--workers", "1"]
            if name == "celery-worker":
                argv += [
                    "--concurrency",
                    str(cfg.concurrency),
                    "--queues",
                    cfg.queue,
                    "--celery-hostname",
                    f"rightsend-{cfg.port}@%h",
                ]
            with open(cfg.log_dir / f"{name}.log", "ab") as log:
                procs[name] = subprocess.Popen(
                    argv,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=cfg.home,
                )
            _write_state(cfg, procs)
    except BaseException:
        stop(cfg)
        raise
    return procs


def stop(cfg: StackConfig, grace: float = 20.0) -> list[str]:
    """Stop every component this stack started (SIGTERM to its process group, then SIGKILL)."""
    pids: dict[str, list[int]] = read_state(cfg).get("pids", {})
    ours = {name: entry[0] for name, entry in pids.items() if _is_ours(entry)}
    for pid in ours.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in ours.values():
        while time.monotonic() < deadline and _group_alive(pid):
            _reap(pid)
            time.sleep(0.2)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        _reap(pid)
    if cfg.state_file.exists():
        cfg.state_file.unlink()
    return sorted(ours)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie leader alone does not count
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def log_tail(cfg: StackConfig, lines: int = 40) -> str:
    out = []
    for path in sorted(cfg.log_dir.glob("*.log")):
        text = path.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"--- {path.name} ---\n" + "\n".join(text))
    return "\n".join(out)


def task_log_tail(cfg: StackConfig, dag_id: str, lines: int = 60, files: int = 3) -> str:
    """The end of the task logs of a DAG that mention an error (newest first), for failures."""
    logs = sorted(
        (cfg.home / "logs" / f"dag_id={dag_id}").rglob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    out = []
    for path in logs:
        text = path.read_text(errors="replace")
        if "error" in text.lower() or "traceback" in text.lower():
            out.append(f"--- {path.relative_to(cfg.home)} ---\n" + "\n".join(text.splitlines()[-lines:]))
        if len(out) >= files:
            break
    return "\n".join(out)


# -- health and the REST API -----------------------------------------------------------------
class Api:
    """A small client for Airflow's REST API v2 (token from /auth/token, simple auth manager)."""

    def __init__(self, base_url: str, username: str, password: str):
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.username, self.password = username, password
        self._token_at = 0.0

    def _auth(self) -> None:
        if time.monotonic() - self._token_at < 600:
            return
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=30,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        self._token_at = time.monotonic()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self._auth()
        response = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise StackError(f"{method} {path} -> {response.status_code}: {response.text[:1000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def health(self) -> dict[str, Any]:
        import requests

        return requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()


def api(cfg: StackConfig) -> Api:
    return Api(cfg.base_url, cfg.admin_user, cfg.admin_password())


def celery_ping(cfg: StackConfig) -> bool:
    done = subprocess.run(
        [
            _bin("celery"),
            "--app",
            CELERY_APP,
            "inspect",
            "ping",
            "--timeout",
            "5",
            "--destination",
            f"rightsend-{cfg.port}@{socket.gethostname()}",
        ],
        env=cfg.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode == 0 and "pong" in done.stdout


def wait_healthy(
    cfg: StackConfig, procs: dict[str, subprocess.Popen] | None = None, timeout: float = 180
) -> dict:
    """Until the API reports metadatabase, scheduler, dag-processor (and triggerer) healthy
    and the Celery worker answers a ping. Raises with the components' logs on timeout or death."""
    client = Api(cfg.base_url, cfg.admin_user, cfg.admin_password())
    wanted = ["metadatabase", "scheduler", "dag_processor"] + (["triggerer"] if cfg.triggerer else [])
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        for name, proc in (procs or {}).items():
            if proc.poll() is not None:
                raise StackError(f"{name} exited with {proc.returncode}\n{log_tail(cfg)}")
        try:
            last = client.health()
            if all((last.get(part) or {}).get("status") == "healthy" for part in wanted) and celery_ping(cfg):
                return last
        except Exception as error:  # noqa: BLE001 - not up yet
            last = repr(error)
        time.sleep(2)
    raise StackError(f"stack not healthy after {timeout:.0f}s (last health: {last})\n{log_tail(cfg)}")


def up(cfg: StackConfig, fresh: bool = False, timeout: float = 240) -> dict[str, subprocess.Popen]:
    """prepare + start + wait_healthy; stops what it started if anything fails."""
    if cfg.port and not _port_free(cfg.port):
        cfg.port = free_port()
    prepare(cfg, fresh=fresh)
    procs = start(cfg)
    try:
        wait_healthy(cfg, procs, timeout=timeout)
    except BaseException:
        stop(cfg)
        raise
    return procs


# -- running the chain through the API -------------------------------------------------------
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# rightsend_ingest's timetable: daily at 02:00 UTC, each run covering the day before.
SCHEDULE_HOUR = 2


def scheduled_day(now: datetime | None = None) -> str:
    """The day D whose slot (logical date D 02:00 UTC) the scheduler creates when the chain is
    unpaused at ``now``: the latest complete interval ends at the last 02:00 UTC, and covers
    the day before it. Between 00:00 and 02:00 UTC that is two days back, not yesterday."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return (now - timedelta(days=1, hours=SCHEDULE_HOUR)).date().isoformat()


def trigger_chain(
    client: Api, run_date: str, dag_ids: Iterable[str] = CHAIN, wait_parsed: float = 180
) -> dict[str, Any]:
    """Wait until the chain's DAGs are parsed, trigger the first with conf {'run_date': D} and
    logical date D 02:00 UTC - the slot rightsend_ingest's timetable gives day D, so unpausing
    does not schedule a second run for it - and unpause all of them (downstream first)."""
    dag_ids = list(dag_ids)
    deadline = time.monotonic() + wait_parsed
    while True:
        known = {d["dag_id"] for d in client.get("/dags", limit=100)["dags"]}
        if set(dag_ids) <= known:
            break
        if time.monotonic() > deadline:
            errors = client.get("/importErrors")
            raise StackError(f"DAGs not parsed: {sorted(set(dag_ids) - known)}; import errors: {errors}")
        time.sleep(2)
    run = client.request(
        "POST",
        f"/dags/{dag_ids[0]}/dagRuns",
        json={
            "dag_run_id": f"manual__{run_date}__{int(time.time())}",
            "logical_date": f"{run_date}T02:00:00Z",
            "conf": {"run_date": run_date},
            "note": "rightsend.stack trigger",
        },
    )
    # Downstream first, so each is listening before its upstream can emit an Asset event.
    for dag_id in reversed(dag_ids):
        client.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    return run


def wait_chain(
    client: Api, since: datetime, dag_ids: Iterable[str] = CHAIN, timeout: float = 900, poll: float = 5
) -> dict[str, dict[str, Any]]:
    """Until every DAG of the chain has a successful run started after ``since``.

    Raises StackError as soon as one of those runs fails, listing its failed tasks."""
    dag_ids = list(dag_ids)
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        for dag_id in dag_ids:
            if dag_id in done:
                continue
            runs = client.get(f"/dags/{dag_id}/dagRuns", run_after_gte=_iso(since), order_by="-run_after")
            for run in runs["dag_runs"]:
                status[dag_id] = run["state"]
                if run["state"] == "failed":
                    tis = task_instances(client, dag_id, run["dag_run_id"])
                    bad = {t["task_id"]: t["state"] for t in tis if t["state"] != "success"}
                    raise StackError(f"{dag_id} run {run['dag_run_id']} failed; tasks: {bad}")
                if run["state"] == "success":
                    done[dag_id] = run
                    break
        if len(done) == len(dag_ids):
            return done
        time.sleep(poll)
    raise StackError(f"chain not finished after {timeout:.0f}s: {status}")


def task_instances(client: Api, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100, offset=len(found))
        found += page["task_instances"]
        if len(found) >= page["total_entries"] or not page["task_instances"]:
            return found


# -- CLI -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rightsend.stack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the native Celery stack and wait until healthy")
    p_up.add_argument("--fresh", action="store_true", help="drop and recreate the metadata database")
    sub.add_parser("status", help="health of a running stack")
    p_trigger = sub.add_parser("trigger", help="run the daily chain for a date through the REST API")
    p_trigger.add_argument(
        "--date", default=None, help="the day to run (default: the slot the scheduler would run next)"
    )
    p_trigger.add_argument("--timeout", type=float, default=1800)
    p_down = sub.add_parser("down", help="stop the stack started by `up`")
    p_down.add_argument("--drop-db", action="store_true", help="also drop the metadata database")
    args = parser.parse_args(argv)

    cfg = StackConfig.from_env()
    state = read_state(cfg)
    if args.command in {"status", "trigger", "down"} and state.get("port"):
        cfg.port = int(state["port"])

    if args.command == "up":
        if reason := services_reachable(cfg):
            print(f"rightsend stack: {reason}", file=sys.stderr)
            return 2
        try:
            up(cfg, fresh=args.fresh)
        except StackError as error:
            print(f"rightsend stack: {error}", file=sys.stderr)
            return 1
        print(
            f"rightsend stack: up - Airflow {cfg.base_url}  (user {cfg.admin_user}, "
            f"password {cfg.admin_password()})"
        )
        print(f"  metadata postgres://{cfg.pg_host}:{cfg.pg_port}/{cfg.database}  broker {cfg.redis_url}")
        print(f"  home {cfg.home}  logs {cfg.log_dir}")
        print(f"  run the chain: {sys.executable} -m rightsend.stack trigger --date YYYY-MM-DD")
        return 0
    if args.command == "status":
        pids = {n: e[0] for n, e in state.get("pids", {}).items() if _is_ours(e)}
        print(json.dumps({"running": pids, "url": cfg.base_url}, indent=2))
        if pids:
            with contextlib.suppress(Exception):
                print(json.dumps(api(cfg).health(), indent=2))
        return 0 if pids else 1
    if args.command == "trigger":
        client = api(cfg)
        since = datetime.now(UTC)
        trigger_chain(client, args.date or scheduled_day())
        try:
            runs = wait_chain(client, since, timeout=args.timeout)
        except StackError as error:
            print(f"rightsend stack: {error}", file=sys.stderr)
            return 1
        for dag_id, run in runs.items():
            print(f"  {dag_id:18} {run['state']:8} {run['dag_run_id']}")
        return 0
    stopped = stop(cfg)
    print(f"rightsend stack: stopped {', '.join(stopped) or 'nothing (not running)'}")
    if args.drop_db:
        drop_database(cfg)
        print(f"rightsend stack: dropped database {cfg.database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

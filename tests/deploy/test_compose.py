"""The compose deployment is consistent with itself, the pins and the natively tested stack.

Docker is not available everywhere the tests run, so docker-compose.yaml is checked by
reading it: versions, referenced files, settings shared with rightsend/stack.py (whose
topology tests/deploy/test_celery_stack.py runs for real), and .env.example's coverage.
Fast: no services, no containers.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from rightsend import stack
from rightsend.config import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
INIT_SCRIPT = PROJECT_ROOT / "include" / "deploy" / "airflow-init.sh"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
# ${NAME}, ${NAME:-default}, ${NAME:?error} - but not $${NAME} (an escaped literal $).
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def common_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["x-airflow-common"]["environment"].items()}


def pins() -> dict[str, str]:
    found = {}
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            found[name.lower().replace("_", "-")] = version.strip()
    return found


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


# -- image -----------------------------------------------------------------------------------
def test_dockerfile_extends_the_official_image_of_the_pinned_airflow():
    froms = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert len(froms) == 1, froms
    match = re.fullmatch(r"apache/airflow:(?P<version>[\d.]+)-python(?P<python>3\.\d+)", froms[0])
    assert match, f"FROM {froms[0]} is not apache/airflow:<version>-python<3.x>"
    assert match["version"] == pins()["apache-airflow"], "image and requirements.txt disagree on Airflow"
    assert match["version"] == importlib.metadata.version("apache-airflow")
    minor = int(match["python"].split(".")[1])
    requires = re.search(
        r'requires-python\s*=\s*">=3\.(\d+),<3\.(\d+)"', (PROJECT_ROOT / "pyproject.toml").read_text()
    )
    assert requires and int(requires[1]) <= minor < int(requires[2]), "image Python outside requires-python"


def test_dockerfile_installs_requirements_project_and_parses_dbt():
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert "-r /opt/rightsend/requirements.txt" in runs
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in runs, "pip could replace the image's Airflow"
    assert "--no-deps -e /opt/rightsend" in runs
    assert "dbt parse" in runs


def test_every_file_the_dockerfile_copies_exists():
    for keyword, rest in dockerfile_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        parts = [p for p in rest.split() if not p.startswith("--")]
        for source in parts[:-1]:
            assert (PROJECT_ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_dockerignore_keeps_secrets_data_and_venv_out_of_the_build():
    ignored = {line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".venv", "data", ".git"} <= ignored
    copied = {rest.split()[-2] for keyword, rest in dockerfile_instructions() if keyword == "COPY"}
    assert not copied & ignored, "the Dockerfile copies something .dockerignore excludes"


def test_env_file_is_never_committed():
    patterns = {line.strip() for line in (PROJECT_ROOT / ".gitignore").read_text().splitlines()}
    assert ".env" in patterns, ".gitignore must list .env (the compose secrets live there)"


def test_requirements_pin_what_celery_on_postgres_needs():
    """The executor must import with the pinned versions, and Airflow 3 needs an async
    Postgres driver (asyncpg) besides psycopg2 - the official image ships it, a pip install
    of requirements.txt must too."""
    pinned = pins()
    for name in ("apache-airflow-providers-celery", "celery", "redis", "psycopg2-binary", "asyncpg"):
        assert name in pinned, f"requirements.txt does not pin {name}"
        assert pinned[name] == importlib.metadata.version(name), f"{name}: pinned != installed"
    import airflow.providers.celery.executors.celery_executor  # noqa: F401 - celery 5.7 breaks it


# -- compose ---------------------------------------------------------------------------------
def test_compose_has_the_airflow3_celery_topology(compose: dict[str, Any]):
    services = compose["services"]
    assert AIRFLOW_SERVICES | {"postgres", "redis"} <= set(services)
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES}
    native = {" ".join(args) for _, args in stack.COMPONENTS}
    assert {commands[n] for n in AIRFLOW_SERVICES - {"airflow-init", "flower"}} == native
    assert services["flower"]["profiles"] == ["flower"]
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker, "the worker must stay scalable"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in services[name], name


def test_compose_settings_match_the_natively_tested_stack(common_env: dict[str, str]):
    for key, value in stack.TOPOLOGY.items():
        if key == "AIRFLOW__CELERY__WORKER_CONCURRENCY":
            assert common_env[key] == "${CELERY_WORKER_CONCURRENCY:-" + value + "}"
        else:
            assert common_env.get(key) == value, key
    for key, scheme in stack.SCHEMES.items():
        assert common_env[key].startswith(scheme), key
    # the metadata DB and the result backend are the same database
    assert (
        common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("://", 1)[1]
        == common_env["AIRFLOW__CELERY__RESULT_BACKEND"].split("://", 1)[1]
    )
    assert common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"


def test_compose_airflow_settings_exist_in_airflow(common_env: dict[str, str]):
    """Every AIRFLOW__SECTION__KEY is an option Airflow or the Celery provider knows (typos fail)."""
    import airflow
    from airflow.providers.celery.get_provider_info import get_provider_info

    template = yaml.safe_load((Path(airflow.__file__).parent / "config_templates" / "config.yml").read_text())
    known = {(section, key) for section, body in template.items() for key in body["options"]}
    for section, body in get_provider_info()["config"].items():
        known |= {(section, key) for key in body["options"]}
    for name in common_env:
        if not name.startswith("AIRFLOW__") or name.startswith("AIRFLOW__COSMOS__"):
            continue
        section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
        assert (section, key) in known, f"{name} is not an Airflow option"


def test_compose_secrets_come_from_the_environment(compose: dict[str, Any], common_env: dict[str, str]):
    for key in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL",
    ):
        assert ":?" in common_env[key], f"{key} must be required from .env, not defaulted"
    assert ":?" in compose["services"]["airflow-init"]["environment"]["AIRFLOW_ADMIN_PASSWORD"]


def test_init_creates_the_warehouse_pool_and_is_wired(compose: dict[str, Any]):
    name, slots_setting, _ = stack.WAREHOUSE_POOL
    script = INIT_SCRIPT.read_text()
    assert f'airflow pools set {name} "${{{slots_setting}:-1}}" ' in script
    assert "airflow db migrate" in script and "dbt parse" in script
    command = compose["services"]["airflow-init"]["command"]
    assert command[-1] == "/opt/rightsend/" + str(INIT_SCRIPT.relative_to(PROJECT_ROOT))


def test_every_mounted_project_folder_exists(compose: dict[str, Any]):
    build = compose["x-airflow-common"]["build"]
    assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    named = set(compose["volumes"])
    for volume in compose["x-airflow-common"]["volumes"]:
        source, target = re.fullmatch(r"(\$\{[^}]*\}|[^:]+):([^:]+)(?::ro|:rw)?", volume).groups()
        if source in named:
            continue
        if source.startswith("${"):  # data folders: set in .env, created by Docker/airflow-init
            assert source.endswith((":-./data/landing}", ":-./data/out}")), source
            continue
        assert (PROJECT_ROOT / source).is_dir(), f"compose mounts missing {source}"
        assert target == "/opt/rightsend/" + source.removeprefix("./")
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if volume not in compose["x-airflow-common"]["volumes"]:
                assert volume.split(":")[0] in named, f"{name}: undeclared volume {volume}"


def test_every_compose_variable_is_documented_in_env_example(compose: dict[str, Any]):
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    lines = ENV_EXAMPLE.read_text().splitlines()
    assigned = {}
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z_][A-Z0-9_]*=", line):
            assigned[line.split("=", 1)[0]] = number
    missing = sorted(used - set(assigned))
    assert not missing, f".env.example does not list {missing}"
    for name in used:
        above = lines[: assigned[name]]
        assert any(line.startswith("# ") for line in above[-6:]), f"{name} has no comment in .env.example"
    unused = sorted(set(assigned) - used)
    assert not unused, f".env.example lists settings compose never reads: {unused}"
    text = ENV_EXAMPLE.read_text()
    for key in compose["x-airflow-common"]["environment"]:
        if key.startswith("RIGHTSEND_"):
            assert key in text, f"{key} (set in compose) is not explained in .env.example"


def test_compose_config_validates_when_docker_compose_is_installed(tmp_path: Path):
    """`docker compose config` (or v1 `docker-compose`) parses, validates and interpolates."""
    commands = []
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            commands.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        commands.append(["docker-compose"])
    if not commands:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(
            f"{line.split('=')[0]}=test-value\n" if line.endswith("=") else line + "\n"
            for line in ENV_EXAMPLE.read_text().splitlines()
        )
    )
    done = subprocess.run(
        [*commands[0], "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr

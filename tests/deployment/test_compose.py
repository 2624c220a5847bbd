"""Deployment configuration checks: Dockerfile, .dockerignore, docker-compose.yml, deploy/.

No Docker engine is needed (none runs where this was written): the files are validated as
configuration. Compose interpolation (${VAR:-default}, ${VAR:?error}, $$) is resolved here the way
`docker compose config` would, and every Airflow setting and CLI command is checked against the
installed Airflow (in a subprocess with a throw-away AIRFLOW_HOME, so nothing leaks into other
tests).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
INIT_SCRIPT = ROOT / "deploy" / "airflow-init.sh"
DEPLOY_REQUIREMENTS = ROOT / "deploy" / "requirements-deploy.txt"
LOCK = ROOT / "requirements.lock"
DOCS = ROOT / "docs" / "DEPLOYMENT.md"

CORE_AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]
CELERY_SERVICES = ["redis", "airflow-worker", "flower"]
AIRFLOW_SERVICES = ["airflow-init", *CORE_AIRFLOW_SERVICES, "airflow-worker", "flower"]
TASK_SERVICES = ["airflow-scheduler", "airflow-worker"]  # where task code (and DuckDB) runs
REQUIRED_SERVICES = ["postgres", *AIRFLOW_SERVICES, "redis"]
# The only sources the Dockerfile may COPY (they are the project's own folders and files).
ALLOWED_COPY_SOURCES = {
    "dags",
    "dbt_project",
    "expectations",
    "ingestion",
    "src",
    "pyproject.toml",
    "README.md",
    "requirements.lock",
    "deploy",
    "deploy/requirements-deploy.txt",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|PSEUDONYM|TOKEN|_KEY$")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve compose-style interpolation in one string (raises KeyError on ${VAR:?msg})."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        current = env.get(name)
        is_set = current is not None and (current != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return current if is_set else arg
        if op in (":?", "?"):
            if not is_set:
                raise KeyError(f"${{{name}}} is required: {arg}")
            return current
        if op in (":+", "+"):
            return arg if is_set else ""
        return current or ""

    return _INTERPOLATION.sub(sub, value)


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _strings(item)


def variables_used(obj=None) -> dict[str, set[str]]:
    """{VAR: {operators used with it}} for every ${VAR...} in the compose file's values (or in
    `obj`); comments do not count, $$ escapes are excluded."""
    if obj is None:
        obj = yaml.safe_load(COMPOSE_FILE.read_text())
    found: dict[str, set[str]] = {}
    for text in _strings(obj):
        for match in _INTERPOLATION.finditer(text):
            if match.group(0) != "$$":
                found.setdefault(match.group(1), set()).add(match.group(2) or "")
    return found


def resolve(obj, env):
    if isinstance(obj, str):
        return interpolate(obj, env)
    if isinstance(obj, list):
        return [resolve(item, env) for item in obj]
    if isinstance(obj, dict):
        return {key: resolve(value, env) for key, value in obj.items()}
    return obj


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            line = line.lstrip("#").strip()  # commented-out optional settings count as documented
            if not re.match(r"^[A-Z][A-Z0-9_]*=", line):
                continue
        name, sep, value = line.partition("=")
        if sep:
            values.setdefault(name, value)
    return values


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def as_argv(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def healthcheck_text(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    return test if isinstance(test, str) else " ".join(str(part) for part in test or [])


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def volume_mounts(service: dict) -> dict[str, str]:
    """{source: target} for short-syntax (and long-syntax) volume entries."""
    mounts = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            mounts[entry.get("source", "")] = entry["target"]
        else:
            source, target = entry.split(":")[:2]
            mounts[source] = target
    return mounts


def published_ports(service: dict) -> list[tuple[str, str, str]]:
    """(host_ip, host_port, container_port) for each short-syntax port mapping."""
    result = []
    for entry in service.get("ports") or []:
        parts = str(entry).split(":")
        host_ip = parts[0] if len(parts) == 3 else ""
        host_port = parts[-2] if len(parts) >= 2 else ""
        result.append((host_ip, host_port, parts[-1].split("/")[0]))
    return result


def parse_dockerfile() -> list[tuple[str, str]]:
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, buffer = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        buffer = ""
    return instructions


def copy_instructions() -> list[tuple[list[str], str, str]]:
    """[(sources, destination, workdir at that point)] for every COPY/ADD without --from."""
    result, workdir = [], "/"
    for keyword, args in parse_dockerfile():
        if keyword == "WORKDIR":
            workdir = str(PurePosixPath(workdir) / args)
        if keyword in ("COPY", "ADD"):
            parts = json.loads(args) if args.startswith("[") else shlex.split(args)
            if any(part.startswith("--from") for part in parts):
                continue
            parts = [part for part in parts if not part.startswith("--")]
            result.append((parts[:-1], parts[-1], workdir))
    return result


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, args in parse_dockerfile():
        if keyword == "ENV":
            for token in shlex.split(args):
                name, _, value = token.partition("=")
                env[name] = value
    return env


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, sep, version = line.split(";", 1)[0].partition("==")
            assert sep, f"{path.name}: {line!r} is not pinned with =="
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    return pins


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def dockerignored(path: str) -> bool:
    excluded = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [path, *(str(p) for p in PurePosixPath(path).parents if str(p) != ".")]
        if any(fnmatch(c, pattern) or fnmatch(c, pattern.removeprefix("**/")) for c in candidates):
            excluded = not negate
    return excluded


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def required_vars() -> set[str]:
    return {name for name, ops in variables_used().items() if ops & {":?", "?"}}


@pytest.fixture(scope="module")
def compose(raw_compose, required_vars) -> dict:
    """The compose model as `docker compose config` would see it with only the secrets set."""
    return resolve(raw_compose, {name: f"test-{name.lower()}" for name in required_vars})


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


_AIRFLOW_PROBE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from airflow.configuration import conf
    out_path, commands, auth_manager = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    result = {"options": {s: sorted(v.get("options", {}))
                          for s, v in conf.configuration_description.items()}}
    from airflow.cli import cli_parser
    parser = cli_parser.get_parser()
    result["commands"] = {}
    for argv in commands:
        sink = io.StringIO()
        try:
            with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                parser.parse_args(argv)
            result["commands"][" ".join(argv)] = "ok"
        except SystemExit:
            result["commands"][" ".join(argv)] = (sink.getvalue().strip().splitlines() or ["?"])[-1]
    module, _, cls = auth_manager.rpartition(".")
    try:
        getattr(__import__(module, fromlist=[cls]), cls)
        result["auth_manager"] = "ok"
    except Exception as exc:
        result["auth_manager"] = repr(exc)
    import importlib.util
    result["celery_provider"] = importlib.util.find_spec("airflow.providers.celery") is not None
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    """
)


def airflow_commands(services: dict[str, dict]) -> list[list[str]]:
    """Every `airflow ...` argv in service commands, CMD healthchecks and the init script."""
    commands = []
    for service in services.values():
        for argv in (as_argv(service.get("command") or []), _healthcheck_argv(service)):
            if argv[:1] == ["airflow"]:
                commands.append(argv[1:])
    for line in INIT_SCRIPT.read_text().splitlines():
        line = line.strip()
        if line.startswith("airflow "):
            commands.append(shlex.split(line)[1:])
    return commands


def _healthcheck_argv(service: dict) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    return (
        [str(part) for part in test[1:]] if isinstance(test, list) and test[:1] == ["CMD"] else []
    )


@pytest.fixture(scope="module")
def airflow_probe(services, tmp_path_factory) -> dict:
    """Ask the installed Airflow (subprocess, clean AIRFLOW_HOME) about config options and CLI."""
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("apache-airflow is not installed in this interpreter")
    home = tmp_path_factory.mktemp("airflow_home")
    out = home / "probe.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(home)
    auth_manager = environment(services["airflow-apiserver"])["AIRFLOW__CORE__AUTH_MANAGER"]
    subprocess.run(
        [
            sys.executable,
            "-c",
            _AIRFLOW_PROBE,
            str(out),
            json.dumps(airflow_commands(services)),
            auth_manager,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return json.loads(out.read_text())


# ---------------------------------------------------------------------------------------------
# docker-compose.yml: structure
# ---------------------------------------------------------------------------------------------


def test_compose_is_compose_spec_without_version(raw_compose):
    assert "version" not in raw_compose, "the Compose specification has no `version:` key"
    assert set(raw_compose) <= {"name", "services", "volumes", "networks", "configs", "secrets"} | {
        key for key in raw_compose if key.startswith("x-")
    }


def test_required_services_present(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"missing services: {missing}"


def test_airflow_services_share_one_image_built_from_repo(services):
    images = set()
    for name in AIRFLOW_SERVICES:
        build = services[name].get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        assert context == ".", f"{name} must be built from the repository root (build: .)"
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (ROOT / context / dockerfile).is_file()
        images.add(services[name].get("image"))
    assert len(images) == 1 and None not in images, f"one shared image tag expected, got {images}"


def test_third_party_images_are_pinned(services):
    for name in ("postgres", "redis"):
        image = services[name]["image"]
        repo, _, tag = image.partition(":")
        assert tag and tag != "latest", f"{name}: pin the image tag ({image})"
        assert re.match(r"^\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$", tag), image
    assert services["postgres"]["image"].startswith("postgres:16.")


@pytest.mark.parametrize(
    ("service", "argv"),
    [
        ("airflow-apiserver", ["airflow", "api-server"]),
        ("airflow-scheduler", ["airflow", "scheduler"]),
        ("airflow-dag-processor", ["airflow", "dag-processor"]),
        ("airflow-triggerer", ["airflow", "triggerer"]),
        ("airflow-worker", ["airflow", "celery", "worker"]),
        ("flower", ["airflow", "celery", "flower"]),
    ],
)
def test_service_commands(services, service, argv):
    assert as_argv(services[service]["command"]) == argv


def test_init_runs_the_init_script_from_the_image(services):
    argv = as_argv(services["airflow-init"]["command"])
    script = next(part for part in argv if part.endswith("airflow-init.sh"))
    # The script must be inside what the Dockerfile copies from deploy/.
    assert any(
        [source.rstrip("/") for source in sources] == ["deploy"]
        and script == str(PurePosixPath(workdir) / dest / "airflow-init.sh")
        for sources, dest, workdir in copy_instructions()
    ), f"{script} is not where the Dockerfile copies deploy/"
    assert services["airflow-init"].get("restart") in ("no", None)


def test_init_script_migrates_db_and_creates_writer_pool():
    text = INIT_SCRIPT.read_text()
    commands = [line.strip() for line in text.splitlines()]
    assert "airflow db migrate" in commands
    pool = next(line for line in commands if line.startswith("airflow pools set"))
    assert shlex.split(pool)[3:5] == ["warehouse_writer", "1"], pool
    assert "set -euo pipefail" in text  # a failing step must fail the service (blocks the rest)
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in text and "AIRFLOW_ADMIN_PASSWORD" in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_init_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(INIT_SCRIPT)], check=True)


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("postgres", "pg_isready"),
        ("airflow-apiserver", "http://localhost:8080/api/v2/monitor/health"),
        ("airflow-scheduler", "http://localhost:8974/health"),
        ("airflow-dag-processor", "--job-type DagProcessorJob"),
        ("airflow-triggerer", "--job-type TriggererJob"),
        ("redis", "redis-cli ping"),
        ("airflow-worker", "inspect ping"),
        ("flower", "http://localhost:5555/healthcheck"),
    ],
)
def test_healthchecks(services, service, expected):
    check = services[service].get("healthcheck") or {}
    assert not check.get("disable"), f"{service}: healthcheck disabled"
    assert expected in healthcheck_text(services[service]), f"{service}: {check.get('test')}"


def test_scheduler_health_server_enabled(services):
    env = environment(services["airflow-scheduler"])
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"].lower() == "true"


def test_apiserver_health_route_exists_in_installed_airflow():
    spec = importlib.util.find_spec("airflow")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("apache-airflow is not installed in this interpreter")
    public = (
        Path(next(iter(spec.submodule_search_locations))) / "api_fastapi/core_api/routes/public"
    )
    assert 'prefix="/api/v2"' in (public / "__init__.py").read_text()
    assert "include_router(monitor_router)" in (public / "__init__.py").read_text()
    monitor = (public / "monitor.py").read_text()
    assert 'prefix="/monitor"' in monitor and '.get("/health"' in monitor


def test_depends_on_order_and_conditions(services):
    assert depends_on(services["airflow-init"]) == {"postgres": "service_healthy"}
    for name in [*CORE_AIRFLOW_SERVICES, "airflow-worker", "flower"]:
        deps = depends_on(services[name])
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("airflow-init") == "service_completed_successfully", name
    for name in ("airflow-worker", "flower"):
        assert depends_on(services[name]).get("redis") == "service_healthy", name
    # Task processes need the execution API.
    assert depends_on(services["airflow-worker"]).get("airflow-apiserver") == "service_healthy"


def test_dependency_graph_is_sound(services):
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            if condition == "service_healthy":
                assert services[dep].get("healthcheck"), f"{name} waits for {dep}'s healthcheck"
            # A default (profile-less) service must not need a celery-profile service.
            if not service.get("profiles"):
                assert not services[dep].get("profiles"), f"{name} depends on profiled {dep}"

    def visit(name, path):
        assert name not in path, f"dependency cycle: {' -> '.join([*path, name])}"
        for dep in depends_on(services[name]):
            visit(dep, [*path, name])

    for name in services:
        visit(name, [])


def test_celery_profile(services):
    for name in CELERY_SERVICES:
        assert services[name].get("profiles") == ["celery"], name
    for name in ["postgres", "airflow-init", *CORE_AIRFLOW_SERVICES]:
        assert not services[name].get("profiles"), f"{name} must run without a profile"


def test_executor_defaults_to_local_and_can_switch_to_celery(raw_compose, services):
    for name in AIRFLOW_SERVICES:
        assert environment(services[name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
    raw = raw_compose["x-airflow-env"]["AIRFLOW__CORE__EXECUTOR"]
    assert interpolate(raw, {"AIRFLOW_EXECUTOR": "CeleryExecutor"}) == "CeleryExecutor"
    broker = environment(services["airflow-worker"])["AIRFLOW__CELERY__BROKER_URL"]
    assert broker.startswith("redis://redis:6379/")


def test_execution_api_points_at_the_apiserver(services):
    for name in AIRFLOW_SERVICES:
        url = environment(services[name])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        assert url == "http://airflow-apiserver:8080/execution/", name


def test_metadata_db_is_postgres_with_psycopg2(services):
    conn = environment(services["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert conn.startswith("postgresql+psycopg2://")
    assert "@postgres:5432/" in conn


def test_image_has_db_driver_and_celery_provider():
    """psycopg2 + asyncpg (async engine Airflow derives) and the Celery provider must be installed
    by the Dockerfile: from the lock, or pinned in deploy/requirements-deploy.txt."""
    lock = requirement_pins(LOCK)
    extra = requirement_pins(DEPLOY_REQUIREMENTS)
    available = set(lock) | set(extra)
    assert {"psycopg2-binary", "psycopg2", "psycopg"} & available
    assert "asyncpg" in available
    assert "apache-airflow-providers-celery" in available
    conflicts = {n: (lock[n], v) for n, v in extra.items() if n in lock and lock[n] != v}
    assert not conflicts, f"deploy/requirements-deploy.txt disagrees with the lock: {conflicts}"


def test_single_shared_settings(services):
    """Secrets that every component must agree on are identical everywhere."""
    for key in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    ):
        values = {environment(services[name]).get(key) for name in AIRFLOW_SERVICES}
        assert len(values) == 1 and None not in values and "" not in values, key


def _docker_compose_v2() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.mark.skipif(not _docker_compose_v2(), reason="`docker compose` (v2) is not installed")
@pytest.mark.parametrize("profile", [[], ["--profile", "celery"]])
def test_docker_compose_config_accepts_the_file(tmp_path, profile):
    """Where the Compose v2 CLI exists, let it validate the file too (no engine needed)."""
    env_file = tmp_path / ".env"
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make_env.py"), "-o", str(env_file)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *profile]
        + ["config", "--quiet"],
        check=True,
        cwd=ROOT,
        timeout=120,
    )


# ---------------------------------------------------------------------------------------------
# volumes and ports
# ---------------------------------------------------------------------------------------------


def test_named_volumes_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    assert {"postgres-data", "warehouse", "exports", "inbox", "airflow-logs"} <= declared
    for name, service in services.items():
        for source in volume_mounts(service):
            if source and not source.startswith((".", "/", "~", "$")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_data_volumes_mounted_where_tasks_run(services):
    for name in TASK_SERVICES:
        mounts = volume_mounts(services[name])
        env = environment(services[name])
        for volume in ("warehouse", "exports", "inbox"):
            assert volume in mounts, f"{name} must mount {volume}"
        warehouse = PurePosixPath(env["BASISMONITOR_WAREHOUSE"])
        assert warehouse.suffix == ".duckdb"
        assert str(warehouse.parent) == mounts["warehouse"], name
        assert env["BASISMONITOR_EXPORTS"] == mounts["exports"], name
        assert env["BASISMONITOR_INBOX"] == mounts["inbox"], name
        assert env.get("BASISMONITOR_PSEUDONYM_KEY"), f"{name} runs tasks: needs the key"


def test_container_paths_agree_with_dockerfile(services):
    image_env = dockerfile_env()
    env = environment(services["airflow-scheduler"])
    for key in ("BASISMONITOR_WAREHOUSE", "BASISMONITOR_EXPORTS", "BASISMONITOR_INBOX"):
        assert image_env[key] == env[key], key
    mounts = volume_mounts(services["airflow-scheduler"])
    assert mounts["airflow-logs"] == f"{image_env['AIRFLOW_HOME']}/logs"
    passwords = PurePosixPath(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    for name in ("airflow-init", "airflow-apiserver"):
        assert str(passwords.parent) in volume_mounts(services[name]).values(), name
    # The image creates every mount point, so named volumes start owned by the airflow user.
    runs = " ".join(args for keyword, args in parse_dockerfile() if keyword == "RUN")
    for target in {*mounts.values()}:
        assert target in runs, f"Dockerfile does not create {target}"


def test_postgres_data_persisted(services):
    assert volume_mounts(services["postgres"]).get("postgres-data") == "/var/lib/postgresql/data"


def test_ports(services):
    api = published_ports(services["airflow-apiserver"])
    assert [port[2] for port in api] == ["8080"]
    assert api[0][0] == "127.0.0.1", "UI bound to localhost unless AIRFLOW_BIND_ADDRESS says so"
    assert [port[2] for port in published_ports(services["flower"])] == ["5555"]
    for name in ("postgres", "redis", "airflow-scheduler", "airflow-dag-processor"):
        assert not services[name].get("ports"), f"{name} must not be published"


# ---------------------------------------------------------------------------------------------
# secrets and settings
# ---------------------------------------------------------------------------------------------


def _all_environments(raw_compose) -> list[tuple[str, dict[str, str]]]:
    envs = [(key, value) for key, value in raw_compose.items() if key.startswith("x-")]
    envs = [(key, value) for key, value in envs if isinstance(value, dict)]
    result = [
        (key, {k: str(v) for k, v in value.items() if not isinstance(v, dict | list)})
        for key, value in envs
    ]
    result += [(name, environment(service)) for name, service in raw_compose["services"].items()]
    return result


def test_no_secret_literals_in_compose(raw_compose, compose, required_vars):
    for owner, env in _all_environments(raw_compose):
        for key, value in env.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}", value), (
                    f"{owner}: {key} must come from the environment as ${{VAR:?...}}, got {value!r}"
                )
    # Credentials inside URLs (SQLAlchemy, broker): after interpolation with only the required
    # variables set, any password in a URL must be one of those variables' values.
    injected = {f"test-{name.lower()}" for name in required_vars}
    urls = 0
    for owner, env in _all_environments(compose):
        for key, value in env.items():
            for match in re.finditer(r"://([^/@\s]+)@", value):
                urls += 1
                user, _, password = match.group(1).partition(":")
                assert password in injected, f"{owner}: {key} embeds a literal password"
    assert urls, "expected the SQLAlchemy URL to carry credentials"
    # Every secret-looking variable is required (no default that could become a real secret).
    for name, ops in variables_used().items():
        if SECRET_NAME.search(name):
            assert ops == {":?"}, f"${{{name}}} must be required (:?), not defaulted ({ops})"
    assert {
        "BASISMONITOR_PSEUDONYM_KEY",
        "POSTGRES_PASSWORD",
        "AIRFLOW_FERNET_KEY",
    } <= required_vars


def test_env_example_documents_every_variable_and_holds_no_secret(required_vars):
    documented = env_example_values()
    used = variables_used()
    assert not set(used) - set(documented), f"undocumented: {sorted(set(used) - set(documented))}"
    for name in required_vars:
        assert documented[name] == "", f"deploy/.env.example must leave secret {name} empty"
    for name, value in documented.items():
        if SECRET_NAME.search(name):
            assert value == "", f"deploy/.env.example holds a value for secret {name}"


def test_make_env_generates_every_secret(tmp_path, required_vars):
    spec = importlib.util.spec_from_file_location("make_env", ROOT / "deploy" / "make_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.GENERATORS) == required_vars
    out = tmp_path / ".env"
    assert module.main(["-o", str(out)]) == 0
    assert module.main(["-o", str(out)]) == 1  # never overwrites silently
    values = dict(
        line.split("=", 1)
        for line in out.read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in required_vars:
        assert values[name], f"{name} not generated"
    resolve(yaml.safe_load(COMPOSE_FILE.read_text()), values)  # compose accepts it
    fernet = pytest.importorskip("cryptography.fernet")
    fernet.Fernet(values["AIRFLOW_FERNET_KEY"].encode())
    assert re.fullmatch(r"[A-Za-z0-9_-]+", values["POSTGRES_PASSWORD"])  # safe inside the DB URL


def _airflow_env_names(raw_compose) -> set[str]:
    names = {key for _, env in _all_environments(raw_compose) for key in env}
    names |= set(dockerfile_env())
    return {name for name in names if name.startswith("AIRFLOW__")}


def test_every_airflow_setting_is_a_real_option(raw_compose, airflow_probe):
    options = airflow_probe["options"]
    unknown = []
    for name in sorted(_airflow_env_names(raw_compose)):
        _, section, key = name.split("__", 2)
        section, key = section.lower(), key.lower()
        for suffix in ("_cmd", "_secret"):
            if key not in options.get(section, []) and key.endswith(suffix):
                key = key.removesuffix(suffix)
        if key not in options.get(section, []):
            unknown.append(name)
    assert not unknown, f"not Airflow config options: {unknown}"


def test_auth_manager_importable(airflow_probe):
    assert airflow_probe["auth_manager"] == "ok"


def test_every_airflow_command_parses(airflow_probe):
    bad = {}
    for command, outcome in airflow_probe["commands"].items():
        if command.startswith("celery") and not airflow_probe["celery_provider"]:
            continue  # the Celery provider is only installed in the image (deploy requirements)
        if outcome != "ok":
            bad[command] = outcome
    assert not bad, f"commands the installed Airflow rejects: {bad}"
    assert any(cmd.startswith("pools set warehouse_writer 1") for cmd in airflow_probe["commands"])


# ---------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore
# ---------------------------------------------------------------------------------------------


def test_base_image_pinned():
    froms = [args for keyword, args in parse_dockerfile() if keyword == "FROM"]
    assert len(froms) == 1, froms
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", froms[0])


COPY_SOURCES = sorted({src.rstrip("/") for srcs, _, _ in copy_instructions() for src in srcs})


def test_copy_sources_are_the_project_files():
    assert set(COPY_SOURCES) <= ALLOWED_COPY_SOURCES, set(COPY_SOURCES) - ALLOWED_COPY_SOURCES
    for required in (
        "dags",
        "dbt_project",
        "expectations",
        "ingestion",
        "src",
        "requirements.lock",
    ):
        assert required in COPY_SOURCES, f"Dockerfile does not copy {required}"
    assert not [args for keyword, args in parse_dockerfile() if keyword == "ADD"], "use COPY"


@pytest.mark.parametrize("source", COPY_SOURCES)
def test_copy_source_exists(source):
    assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


@pytest.mark.parametrize("source", COPY_SOURCES)
def test_copy_source_not_dockerignored(source):
    assert not dockerignored(source), (
        f".dockerignore excludes {source}, which the Dockerfile copies"
    )


def test_dockerignore_keeps_secrets_and_local_state_out():
    for path in (".env", ".venv", ".git", "dbt_project/target", "var", "x.duckdb"):
        assert dockerignored(path), path
    assert not dockerignored("deploy/.env.example")


def test_lock_installed_before_project():
    runs = [args for keyword, args in parse_dockerfile() if keyword == "RUN"]
    lock = next(
        i for i, r in enumerate(runs) if "pip install --no-cache-dir -r requirements.lock" in r
    )
    # Editable: basismonitor.config finds dbt_project/, expectations/ and var/ relative to the
    # package's source location, so the source must stay next to them in the image.
    project = next(
        i for i, r in enumerate(runs) if re.search(r"pip install .*--no-deps -e \.(\s|$)", r)
    )
    extras = next(i for i, r in enumerate(runs) if "-r deploy/requirements-deploy.txt" in r)
    assert lock < extras < project
    assert "-c requirements.lock" in runs[extras], "extras must be constrained by the lock"
    assert all("--no-cache-dir" in r for r in runs if "pip install" in r)
    assert not any("dbt deps" in r for r in runs)


def test_airflow_home_and_dags_folder():
    env = dockerfile_env()
    assert env["AIRFLOW_HOME"] == "/opt/airflow"
    dags = next(
        str(PurePosixPath(workdir) / dest)
        for sources, dest, workdir in copy_instructions()
        if [s.rstrip("/") for s in sources] == ["dags"]
    )
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].rstrip("/") == dags.rstrip("/")


def test_repository_layout_kept_in_image(services):
    """basismonitor.config sets PROJECT_ROOT = src/basismonitor/../.., so the image must keep
    src/, dags/, dbt_project/ and expectations/ side by side, and var/ (failure summaries,
    validation docs) must be a writable volume at PROJECT_ROOT/var."""
    destinations = {
        sources[0].rstrip("/"): PurePosixPath(workdir) / dest
        for sources, dest, workdir in copy_instructions()
        if len(sources) == 1
    }
    root = destinations["src"].parent
    for folder in ("src", "ingestion", "dags", "dbt_project", "expectations"):
        assert destinations[folder] == root / folder, folder
    for name in TASK_SERVICES:
        assert str(root / "var") in volume_mounts(services[name]).values(), name


def test_runs_as_non_root_airflow_user():
    instructions = parse_dockerfile()
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] in ("airflow", "50000", "airflow:0", "50000:0"), users
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert re.search(r"useradd .*--uid 50000 .*airflow", runs)


def test_no_secrets_baked_into_image():
    for keyword, args in parse_dockerfile():
        if keyword in ("ENV", "ARG"):
            for token in shlex.split(args):
                assert not SECRET_NAME.search(token.partition("=")[0]), f"{keyword} {token}"


def test_deploy_requirements_pinned():
    pins = requirement_pins(DEPLOY_REQUIREMENTS)
    assert pins and all(re.fullmatch(r"\d+(\.\d+)*(\.post\d+)?", v) for v in pins.values())


# ---------------------------------------------------------------------------------------------
# docs
# ---------------------------------------------------------------------------------------------


def test_deployment_doc_covers_the_operations():
    text = DOCS.read_text()
    for needle in (
        "deploy/.env.example",
        "docker compose up -d",
        "--profile celery",
        "AIRFLOW_EXECUTOR=CeleryExecutor",
        "airflow dags trigger basismonitor_refresh",
        '{"edition": 2022}',
        "warehouse_writer",
        "validated as configuration",
    ):
        assert needle in text, f"docs/DEPLOYMENT.md does not mention {needle!r}"

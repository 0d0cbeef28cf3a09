"""docker-compose.yml, the Dockerfile and .env.example agree with the code.

No Docker engine runs in CI, so the compose file is parsed and its commands checked
against the project instead of being started.
"""

import re
import shlex
from pathlib import Path

import yaml

from tests.conftest import ROOT


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: str) -> list[str]:
    command = _compose()["services"][service]["command"]
    command = command if isinstance(command, list) else shlex.split(command)
    if command[:2] == ["sh", "-c"]:  # a shell that execs the program
        command = shlex.split(command[2].removeprefix("exec "))
    return command


def test_it_declares_the_services_of_the_design() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["migrate"]["restart"] == "no"


def test_it_keeps_redis_append_only_and_never_evicting() -> None:
    command = _command("redis")
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_it_has_no_known_passwords_to_fall_back_to() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    secrets = re.findall(r"\$\{([A-Z_]*(?:PASSWORD|SECRET_KEY)[A-Z_]*)(:[-?])", text)
    assert secrets, "the compose file names its secrets"
    assert {operator for _, operator in secrets} == {":?"}, "a secret with a default"
    assert {name for name, _ in secrets} >= {"POSTGRES_PASSWORD", "APP_DB_PASSWORD",
                                              "REDIS_PASSWORD", "SECRET_KEY"}  # fmt: skip


def test_redis_asks_for_a_password_the_app_gives() -> None:
    command = _command("redis")
    assert command[command.index("--requirepass") + 1] == "$$REDIS_PASSWORD"  # from its env
    app = _compose()["x-app"]["environment"]
    assert app["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")


def test_its_commands_point_at_entry_points_that_exist() -> None:
    assert _command("migrate")[:3] == ["python", "manage.py", "migrate"]
    assert (ROOT / "manage.py").exists()
    web = _command("web")
    assert web[:2] == ["gunicorn", "crm.wsgi"]
    assert re.search(r"^application = ", (ROOT / "crm/wsgi.py").read_text(), re.M)
    for service, kind in (("worker", "worker"), ("beat", "beat")):
        assert _command(service)[:4] == ["celery", "-A", "crm", kind]
    assert re.search(r"^app = Celery\(", (ROOT / "crm/celery.py").read_text(), re.M)


def test_it_runs_exactly_one_beat_and_waits_for_migrations() -> None:
    services = _compose()["services"]
    beats = [name for name, s in services.items() if "beat" in " ".join(s.get("command", []))]
    assert beats == ["beat"]
    for name in ("web", "worker", "beat"):
        migrate = services[name]["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully"


def test_the_dockerfile_copies_what_it_installs_from() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in dockerfile
    for name in re.findall(r"^COPY (\S+) (\S+) \./$", dockerfile, re.M)[0]:
        assert (ROOT / name).exists()


def test_env_example_documents_every_variable_the_code_reads() -> None:
    read: set[str] = set()
    for path in (ROOT / "crm/settings.py", ROOT / "crm/dev.py"):
        source = path.read_text()
        read |= set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
        read |= set(re.findall(r"os\.environ(?:\.get)?[\(\[]\"([A-Z][A-Z0-9_]+)\"", source))
    documented = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", Path(ROOT / ".env.example").read_text(), re.M)
    )
    assert read - {"DJANGO_SETTINGS_MODULE"} <= documented
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= read


def test_compose_runs_the_app_as_a_role_row_level_security_applies_to() -> None:
    app = _compose()["x-app"]["environment"]
    assert app["DATABASE_URL"].startswith("postgres://crm_app:")
    assert app["DATABASE_OWNER_URL"].startswith("postgres://crm:")
    init = (ROOT / "docker/postgres-init/10-app-role.sh").read_text()
    assert "CREATE ROLE crm_app LOGIN NOSUPERUSER NOBYPASSRLS" in init


def test_web_and_workers_share_a_home_for_files_that_the_app_user_owns() -> None:
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        media = services[name]["environment"]["MEDIA_ROOT"]
        assert f"media:{media}" in services[name]["volumes"], name
    assert "media" in _compose()["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    # The volume starts as a copy of the image's folder: made and owned by the app user,
    # outside the code, before the image switches to that user.
    made = re.search(r"mkdir -p (\S+) && chown crm (\S+)", dockerfile)
    assert made
    assert made[1] == made[2] == media
    assert f"ENV MEDIA_ROOT={media}" in dockerfile
    assert dockerfile.index("chown crm") < dockerfile.index("USER crm")

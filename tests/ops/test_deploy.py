"""deploy/: Debian's docker-compose accepts compose.yaml, HAProxy accepts haproxy.cfg, and the
env example documents every variable the services and Settings read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config import Settings
from tests.scale.haproxy import HAProxyUnavailable, ensure_haproxy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def ensure_docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("docker-compose is not installed (apt-get install docker-compose), and this user can't install it")
    done = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "docker-compose"],
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, text=True, timeout=900)
    found = shutil.which("docker-compose")
    assert done.returncode == 0 and found, done.stderr[-1000:]
    return found


@pytest.fixture
def project(tmp_path) -> Path:
    """deploy/'s files with a .env made from the example, as an operator would have them."""
    for name in ("compose.yaml", "haproxy.cfg"):
        shutil.copy(DEPLOY / name, tmp_path / name)
    env = (DEPLOY / ".env.example").read_text() + "\nPOSTGRES_PASSWORD=example-only\nSLACK_BOT_TOKEN=xoxb-x\nSLACK_SIGNING_SECRET=s\n"
    (tmp_path / ".env").write_text(env)
    return tmp_path


def compose(project: Path, *args: str) -> str:
    done = subprocess.run([ensure_docker_compose(), "-f", "compose.yaml", *args], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_docker_compose_accepts_the_compose_file(project):
    compose(project, "config", "-q")
    services = compose(project, "--profile", "discord", "config", "--services").split()
    assert {"db", "migrate", "bot", "lb", "discord-a", "discord-b"} <= set(services)
    rendered = compose(project, "--profile", "discord", "config")
    assert "condition: service_completed_successfully" in rendered  # replicas wait for the migration
    assert "condition: service_healthy" in rendered  # the migration waits for PostgreSQL
    assert "replicas: 3" in rendered and "RAPPORT_DISCORD_SHARD_IDS: '1'" in rendered
    assert "RAPPORT_DATABASE_URL: postgresql+asyncpg://rapport:example-only@db:5432/rapport" in rendered


def test_compose_without_a_password_is_refused(project):
    (project / ".env").write_text((DEPLOY / ".env.example").read_text())
    done = subprocess.run([ensure_docker_compose(), "-f", "compose.yaml", "config", "-q"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr


def test_haproxy_accepts_the_load_balancer_config(project):
    try:
        haproxy = ensure_haproxy()
    except HAProxyUnavailable as err:
        pytest.skip(str(err))
    done = subprocess.run([haproxy, "-c", "-f", str(project / "haproxy.cfg")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (project / "haproxy.cfg").read_text()
    assert "option httpchk GET /readyz" in text and "balance roundrobin" in text


def test_the_env_example_names_every_setting():
    example = (DEPLOY / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    for field in Settings.model_fields.values():
        if field.alias and field.alias.startswith("RAPPORT_"):
            assert field.alias in named, f"{field.alias} is missing from deploy/.env.example"

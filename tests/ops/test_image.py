"""The container image: built on a base made from Debian's packages, `rapport --help` runs in
it, it runs as a non-root user, /healthz and /readyz answer, and SIGTERM stops it within 10 s.

Docker Hub is out of reach here, so the base is ``rapport-base:bookworm`` from
``deploy/debian-base.sh`` (debootstrap; its root file system is cached in
/var/cache/rapport-base, and the image itself stays in Docker between runs). Docker's layer
cache keeps a second build to seconds.

Runs where a Docker engine answers, or where ``dockerd`` is installed and this is root (the
test starts it and stops it again). Otherwise it says why and skips. Set
``RAPPORT_SKIP_IMAGE_TEST=1`` to skip it on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.scale.haproxy import free_port

ROOT = Path(__file__).resolve().parents[2]
BASE = "rapport-base:bookworm"
IMAGE = "rapport:test"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A Docker engine: the running one, or a dockerd this fixture starts (and stops)."""
    if os.environ.get("RAPPORT_SKIP_IMAGE_TEST"):
        pytest.skip("RAPPORT_SKIP_IMAGE_TEST is set")
    if engine_answers():
        yield None
        return
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None)
    if not dockerd or not shutil.which("docker") or os.geteuid() != 0:
        pytest.skip("no Docker engine here (install Debian's docker.io and run as root to build and run the image)")
    log = (tmp_path_factory.mktemp("dockerd") / "dockerd.log").open("wb")
    proc = subprocess.Popen([dockerd], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while not engine_answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.skip("dockerd would not start here (see its log); the image part is skipped")
        time.sleep(0.5)
    yield proc
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def image(engine):
    """Builds the image on the Debian-made base (making the base first if needed)."""
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        cached = Path(os.environ.get("RAPPORT_BASE_CACHE", "/var/cache/rapport-base"))
        if not shutil.which("debootstrap") and not any(cached.glob("*.tar")):
            pytest.skip(f"no {BASE} image, no debootstrap and no cached root file system in {cached}: "
                        "apt-get install debootstrap, then deploy/debian-base.sh")
        env = {**os.environ}
        if os.path.exists(HOST_CA):  # this network's TLS proxy is trusted by the host's bundle
            env["RAPPORT_BASE_CA_BUNDLE"] = HOST_CA
        done = subprocess.run([str(ROOT / "deploy" / "debian-base.sh"), BASE], env=env,
                              capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            pytest.skip(f"could not make the Debian base image: {done.stderr[-500:]}")
    args = ["build", "--network", "host", "--build-arg", f"BASE_IMAGE={BASE}", "-t", IMAGE]
    if os.path.exists(HOST_CA):
        args += ["--build-arg", f"PIP_CERT={HOST_CA}"]
    if os.environ.get("PIP_INDEX_URL"):
        args += ["--build-arg", f"PIP_INDEX_URL={os.environ['PIP_INDEX_URL']}"]
    docker(*args, str(ROOT), timeout=1500)
    return IMAGE


def test_rapport_help_runs_in_the_image(image):
    out = docker("run", "--rm", image, "--help").stdout
    assert "usage: rapport" in out and "db" in out
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "rapport" and config["Entrypoint"] == ["rapport"] and config["Cmd"] == ["run"]
    assert "healthz" in " ".join(config["Healthcheck"]["Test"])


def test_the_container_is_healthy_ready_and_stops_on_sigterm(image):
    port = free_port()
    name = f"rapport-test-{port}"
    docker("run", "-d", "--name", name, "--network", "host",
           "-e", "SLACK_BOT_TOKEN=xoxb-image-test", "-e", "SLACK_SIGNING_SECRET=image-test-secret",
           "-e", "SLACK_API_URL=http://127.0.0.1:9/api/", "-e", f"RAPPORT_HTTP_PORT={port}",
           "-e", "RAPPORT_HTTP_HOST=127.0.0.1", "-e", "RAPPORT_LOG_FORMAT=json", "-e", "RAPPORT_DRAIN_SECONDS=1",
           image)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert json.loads(resp.read()) == {"ok": True}
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(docker("logs", name, check=False).stderr[-3000:]) from None
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
            assert json.loads(resp.read())["ready"] is True
        assert docker("exec", name, "id", "-u").stdout.strip() != "0"
        started = time.monotonic()
        docker("stop", "-t", "15", name, timeout=60)
        assert time.monotonic() - started < 10
        state = json.loads(docker("inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, docker("logs", name, check=False).stderr[-3000:]
        for line in docker("logs", name).stderr.splitlines():
            json.loads(line)  # JSON logs in the container too
    finally:
        docker("rm", "-f", name, check=False)

"""A real HAProxy in front of the bot processes, for the multi-process tests and the benchmark.

``ensure_haproxy()`` finds the binary, or installs Debian's package when running as root
(``apt-get install -y haproxy``); ``Balancer`` writes a config for the given backends, starts
``haproxy -db`` in the foreground, reads per-server state and counters from its stats socket,
and stops it.

The config mirrors ``deploy/haproxy.cfg`` (round robin, health checks on ``GET /readyz``,
retries only for refused connections, an ``X-Request-ID`` per request), with static
``127.0.0.1`` servers instead of Docker's DNS and faster checks.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
global
    maxconn 4096
    stats socket {sock} mode 600 level admin
    log stdout format raw local0 notice

defaults
    mode http
    log global
    option log-health-checks
    timeout connect 1s
    timeout check 3s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch

frontend public
    bind 127.0.0.1:{port}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    unique-id-header X-Request-ID
    default_backend rapport

backend rapport
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter {inter_ms}ms fall 2 rise 2 check
{servers}
"""


class HAProxyUnavailable(Exception):
    """HAProxy is not installed and can't be installed here (the message says why)."""


def ensure_haproxy() -> str:
    """The haproxy binary; installs Debian's package when missing and running as root."""
    found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy") and "/usr/sbin/haproxy")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise HAProxyUnavailable("haproxy is not installed (apt-get install haproxy), and this user can't install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another apt may hold the lock for a while (dpkg's lock timeout waits for it).
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "haproxy"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:  # a stale package list: update once and try again
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-q"], env=env,
                       capture_output=True, text=True, timeout=600)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy") and "/usr/sbin/haproxy")
    if done.returncode != 0 or not found:
        raise HAProxyUnavailable(f"apt-get install haproxy failed: {done.stderr.strip()[-500:]}")
    # Debian's package starts a system haproxy on :80 where an init system runs; we use our own.
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerStat:
    name: str
    status: str  # UP, DOWN, MAINT, "UP 1/2" while rising...
    responses_2xx: int
    responses_5xx: int
    requests: int  # sessions the balancer sent to it


class Balancer:
    """One HAProxy process: ``await start()``, ``url``, ``stats()``, ``await stop()``."""

    def __init__(self, backends: dict[str, int], workdir: Path, *, check_interval_ms: int = 250) -> None:
        self.backends = backends  # server name -> port on 127.0.0.1
        self.workdir = workdir
        self.port = free_port()
        self.sock = workdir / "haproxy.sock"
        self.config = workdir / "haproxy.cfg"
        self.log_path = workdir / "haproxy.log"
        self.check_interval_ms = check_interval_ms
        self.proc: asyncio.subprocess.Process | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        servers = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in self.backends.items())
        self.config.write_text(CONFIG.format(sock=self.sock, port=self.port, inter_ms=self.check_interval_ms, servers=servers))

    async def start(self, binary: str, within: float = 10.0) -> None:
        self.write_config()
        check = await asyncio.create_subprocess_exec(binary, "-c", "-f", str(self.config),
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await check.communicate()
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejected its config: {out.decode()}")
        self._log = self.log_path.open("wb")
        self.proc = await asyncio.create_subprocess_exec(binary, "-db", "-f", str(self.config),
                                                         stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + within
        while True:
            if self.proc.returncode is not None:
                raise RuntimeError(f"haproxy exited: {self.log_path.read_text()[-2000:]}")
            try:
                stats = self.stats()
                if stats and all(s.status.startswith("UP") for s in stats.values()):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy's servers did not come up: {self.stats()}")
            await asyncio.sleep(0.05)

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(self.sock))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, ServerStat]:
        """Per-server state and counters of the ``rapport`` backend."""
        text = self.command("show stat").lstrip("# ")
        out: dict[str, ServerStat] = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") != "rapport" or row.get("svname") in ("FRONTEND", "BACKEND"):
                continue
            out[row["svname"]] = ServerStat(
                name=row["svname"], status=row.get("status", ""),
                responses_2xx=int(row.get("hrsp_2xx") or 0), responses_5xx=int(row.get("hrsp_5xx") or 0),
                requests=int(row.get("stot") or 0),
            )
        return out

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._log is not None:
            self._log.close()

"""The console end to end: `admin dashboard` prints a sign-in link to the web dashboard
served by the same program, and the link signs in."""

from __future__ import annotations

import http.cookiejar
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

from tests.adapters.test_console import ROOT, _env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_console_prints_a_link_that_opens_the_dashboard(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=_env(tmp_path, RAPPORT_HTTP_HOST="127.0.0.1", RAPPORT_HTTP_PORT=str(port), PYTHONPATH=str(ROOT)),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        proc.stdin.write("/rapport log Jane Doe when: yesterday 3pm thanked: yes\n/rapport admin dashboard\n")
        proc.stdin.flush()
        url = None
        while url is None:
            line = lines.get(timeout=60)
            if m := re.search(r"Open the dashboard: (http://\S+/dashboard/login/\S+)", line):
                url = m.group(1)
        assert url.startswith(f"http://localhost:{port}/dashboard/login/")
        url = url.replace("localhost", "127.0.0.1")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(url, timeout=30) as r:
            nonce = re.search(r'name="nonce" value="([^"]+)"', r.read().decode()).group(1)
        with browser.open(url, data=urllib.parse.urlencode({"nonce": nonce}).encode(), timeout=30) as r:
            page = r.read().decode()
        assert r.geturl().endswith("/dashboard")
        assert "Are introductions happening?" in page and "Console community" in page
        assert re.search(r'<span class="k">Meetings logged</span><span class="v">1</span>', page)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()

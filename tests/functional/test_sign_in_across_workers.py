"""The per-address sign-in limit holds across gunicorn workers, as the README deploys them.

With Flask-Limiter's in-memory counters each of four workers kept its own count, and 78 of 90
attempts from one address got through. This starts gunicorn with four workers on a loopback
port against the test database, sends attempts from one address at once so that several
workers answer them, and counts how many reached the password check.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backoffice.config import PROJECT_ROOT

WORKERS = 4
LIMIT = 5
ATTEMPTS = 24
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_gunicorn(database_url: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "BACKOFFICE_ENV": "development",
           "SECRET_KEY": "gunicorn-test-secret", "BACKOFFICE_INSTANCE_PATH": str(folder),
           "LOGIN_RATE_LIMIT": f"{LIMIT} per hour", "PASSWORD_HASH_TIME_COST": "1",
           "PASSWORD_HASH_MEMORY_KIB": "8", "PASSWORD_HASH_PARALLELISM": "1",
           "WEB_CONCURRENCY": str(WORKERS), "BIND": f"127.0.0.1:{port}"}
    env.pop("RATELIMIT_STORAGE_URI", None)  # the default: counters in the database
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "--no-control-socket", "--access-logfile", str(folder / "access.log"),
         "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "--error-logfile", str(folder / "error.log"),
         "backoffice:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_until_serving(base: str, server: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, (folder / "error.log").read_text()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=REQUEST_TIMEOUT_S) as response:
                if response.status == 200 and _booted_workers(folder) >= WORKERS:
                    return
        except OSError:  # not listening yet, or a worker still loading the app
            pass
        time.sleep(0.3)
    raise AssertionError(f"gunicorn did not serve within {START_TIMEOUT_S} s")


def _booted_workers(folder: Path) -> int:
    log = folder / "error.log"
    return len(re.findall(r"Booting worker with pid", log.read_text())) if log.exists() else 0


def _attempt(base: str, number: int) -> int:
    """One sign-in as a browser makes it (the form, then its POST); a different unknown username
    each time, so only the per-address limit can refuse it."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/login", timeout=REQUEST_TIMEOUT_S) as form:
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.read().decode()).group(1)
    data = urllib.parse.urlencode({"username": f"nobody{number}", "password": "not a password at all",
                                   "csrf_token": token}).encode()
    try:
        with opener.open(f"{base}/login", data=data, timeout=REQUEST_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_the_per_address_limit_holds_across_four_gunicorn_workers(database_url, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_gunicorn(database_url, port, tmp_path)
    try:
        _wait_until_serving(base, server, tmp_path)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = Counter(pool.map(lambda number: _attempt(base, number), range(ATTEMPTS)))
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # 401: the attempt reached the password check; 429: the address was over its limit.
    assert statuses == {401: LIMIT, 429: ATTEMPTS - LIMIT}
    answered_by = {line.split()[0] for line in (tmp_path / "access.log").read_text().splitlines()
                   if " POST /login " in line}
    assert len(answered_by) > 1, "one worker answered every attempt: the test proves nothing"

"""`make run` on a fresh checkout: SQLite, no broker, the login page served."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_serves_the_login_page_on_sqlite_without_services(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CTCAE_WORKBOOK")
    }
    # A database of its own so that the developer's var/db.sqlite3 is left alone.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300  # a loaded CI machine; about 40 s when idle
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as response:
                    assert response.status == 200
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        output = log.read_text()
        assert body is not None, output[-3000:]
        assert "Sign in" in body and 'name="password"' in body
        assert "coordinator_a" in output and "monitor" in output  # demo users printed on start
        assert "76 terms" in output  # the starter CTCAE set, no workbook configured
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)

"""For the playground's tests: a real `matcalc serve` in a subprocess, HTTP calls to it, and
Debian's Chromium driven by Playwright.

Without the web extra or the browser, these tests skip — except in CI (``CI`` set, as `.ci/run`
sets it), where a missing piece is a failure: `.ci/run` installs Chromium and the test extra
brings the rest.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def missing(problem: str) -> None:
    """Skip, or in CI fail: the tests that need this must run there."""
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {problem}")
    pytest.skip(problem)


def require_web_stack() -> None:
    for module in ("starlette", "uvicorn", "markdown_it", "mdit_py_plugins"):
        try:
            __import__(module)
        except ImportError:
            missing(f"{module} is not installed (pip install '.[web]')")


def require_browser() -> None:
    require_web_stack()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("Playwright for Python is not installed (pip install '.[test]')")
    if not Path(CHROMIUM).exists():
        missing(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")


class Server:
    """`python -m matcalc serve --port 0 …` in a subprocess, stopped by :meth:`stop`."""

    def __init__(self, *options: str, env: dict[str, str] | None = None):
        fd, log = tempfile.mkstemp(suffix=".log", prefix="matcalc-serve-")
        self.log = Path(log)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "matcalc", "serve", "--port", "0", *options],
            stdout=subprocess.PIPE, stderr=fd, text=True, cwd=ROOT,
            env={**os.environ, **(env or {})})
        os.close(fd)
        line = self._first_line(timeout=180)
        if "http://" not in line:
            self.stop()
            raise AssertionError(f"matcalc serve did not start: {line!r}\n{self.errors()}")
        self.url = line.split()[2]
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def _first_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return ""
        return self.proc.stdout.readline()

    def errors(self) -> str:
        return self.log.read_text()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, chunked: bool = False,
                timeout: float = 120) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request: (status, headers, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=iter([body]) if chunked and body else body,
                         headers=headers or {}, encode_chunked=chunked)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read()
        finally:
            conn.close()

    def post(self, path: str, payload: Any, **kwargs: Any) -> tuple[int, Any]:
        """POST JSON; (status, decoded JSON answer)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, headers, raw = self.request(
            "POST", path, body, {"content-type": "application/json", **kwargs.pop("headers", {})},
            **kwargs)
        assert headers["content-type"].startswith("application/json"), (status, raw[:200])
        return status, json.loads(raw)

    def get(self, path: str) -> tuple[int, Any]:
        status, _, raw = self.request("GET", path)
        return status, json.loads(raw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.name))
    return out

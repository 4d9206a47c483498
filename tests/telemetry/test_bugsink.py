"""Integration: a real self-hosted, Sentry-compatible tracker (Bugsink: Django + SQLite) started
by the test run on 127.0.0.1. Routed requests are reported through the real sentry-sdk, and the
tracker's own database must show one issue for routing events and one for prompt-built events.
If the tracker cannot start, the test fails loudly: it never skips."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prompt_router import PromptRouter, RouterSettings

from ..conftest import DATE

BIN = Path(sys.executable).parent


class Bugsink:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = self._free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bugsink_conf", "PYTHONPATH": str(root)}
        self.server: subprocess.Popen | None = None

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def _run(self, *args: str, timeout: float = 120) -> str:
        tool = shutil.which(args[0], path=str(BIN)) or args[0]
        proc = subprocess.run([tool, *args[1:]], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"bugsink: {' '.join(args[:2])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return proc.stdout

    def setup(self) -> str:
        conf = self.root / "bugsink_conf.py"
        self._run("bugsink-create-conf", "--template", "local", "--host", "127.0.0.1", "--port", str(self.port),
                  "--output-file", str(conf))
        with conf.open("a") as handle:
            handle.write(
                f'\nSECRET_KEY = "{secrets.token_urlsafe(40)}"\n'
                f'DATABASES["default"]["NAME"] = "{self.root / "db.sqlite3"}"\n'
                f'DATABASES["snappea"]["NAME"] = "{self.root / "snappea.sqlite3"}"\n'
                'BUGSINK["DIGEST_IMMEDIATELY"] = True\n'
            )
        self._run("bugsink-manage", "migrate", "-v0")
        self._run("bugsink-manage", "migrate", "snappea", "--database=snappea", "-v0")
        dsn = self.query("from projects.models import Project\n"
                         "p = Project.objects.create(name='prompt-router')\n"
                         "result = p.dsn")
        log = (self.root / "server.log").open("w")
        tool = shutil.which("bugsink-manage", path=str(BIN))
        self.server = subprocess.Popen([tool, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                                       cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                pytest.fail(f"bugsink server exited:\n{(self.root / 'server.log').read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return dsn
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"bugsink did not start listening:\n{(self.root / 'server.log').read_text()[-3000:]}")

    def query(self, code: str) -> object:
        """Run Django ORM code in the tracker's own environment; `result` is returned as JSON."""
        script = code + "\nimport json\nprint('RESULT:' + json.dumps(result, default=str))"
        out = self._run("bugsink-manage", "shell", "-c", script)
        line = next(line for line in out.splitlines() if line.startswith("RESULT:"))
        return json.loads(line[len("RESULT:"):])

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bugsink(tmp_path_factory):
    tracker = Bugsink(tmp_path_factory.mktemp("bugsink"))
    dsn = tracker.setup()
    yield tracker, dsn
    tracker.stop()


# The issue's message is its `calculated_value` in every Bugsink release; the displayed
# title() adds the type in some ("Log Message: Routing: ..." in 2.0.x), not in others.
ISSUES = """
from issues.models import Issue
result = sorted(
    [{"message": i.calculated_value, "events": i.digested_event_count} for i in Issue.objects.all()],
    key=lambda r: r["message"])
"""


def test_routing_and_prompt_events_form_one_issue_each(bugsink):
    tracker, dsn = bugsink
    router = PromptRouter.from_settings(RouterSettings(
        _env_file=None, sentry_dsn=dsn, route_cache_size=0, telemetry_sample_rate=1.0, telemetry_max_events_per_second=1e6,
        telemetry_queue_size=5000, router="keyword"))
    queries = ["plot sales.csv by month", "deploy the flask app and email the team", "hello there",
               "search the news and write a blog post", "make a logo", "fix the failing test in my repo"]
    counts = set()
    total = 60  # enough to show grouping; the dev server ingests ~15 envelopes/s
    for i in range(total):
        result = router.system_prompt(f"{queries[i % len(queries)]} #{i}", context=DATE)
        counts.add(len(result.decision.modules))
    assert len(counts) >= 4  # varying module counts, so varying messages
    [telemetry] = router.observers
    router.close(30)
    assert telemetry.dropped == 0
    deadline = time.monotonic() + 60
    issues: list = []
    while time.monotonic() < deadline:
        issues = tracker.query(ISSUES)
        if sum(i["events"] for i in issues) >= 2 * total:
            break
        time.sleep(1)
    assert len(issues) == 2, issues
    routing = next(i for i in issues if i["message"].startswith("Routing:"))
    built = next(i for i in issues if i["message"].startswith("Prompt built:"))
    assert routing["events"] == total and built["events"] == total

"""The benchmark harness runs end to end on a tiny database (figures are not checked here:
budgets are measured by `make bench`, never by timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The benchmark harness builds SQLite files: not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parent.parent
ARGS = ("--clients", "60", "--small", "30", "--runs", "1", "--repeats", "1", "--no-import")


@pytest.mark.slow
def test_harness_prints_every_budget_on_a_tiny_database(tmp_path: Path) -> None:
    data = tmp_path / "bench"
    data.mkdir(mode=0o700)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *ARGS, "--data", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for figure in (
        "cold start to first caseload rows, 60 clients",
        "cold start to first caseload rows, 30 clients",
        "start cost vs size",
        "peak memory (RSS), 60 clients",
        "start path keeps heavy modules out",
        "open screen: caseload",
        "open screen: client brief",
        "open screen: login",
        "open screen: your follow-ups",
        "open screen: add a client",
        "open screen: log a contact",
        "open screen: screening",
        "open screen: add a follow-up",
        "open screen: care plan",
        "open screen: needs and referrals",
        "open screen: edit the client",
        "open screen: programmes",
        "open screen: unable to reach",
        "open screen: programme report",
        "programme report, a month's figures",
        "caseload search, one keystroke",
        "follow-up queue, team",
        "follow-up queue, switch tab",
        "team view",
        "import 60 clients from CSV",
    ):
        assert figure in out, out
    assert "ratio" in out
    assert (data / "demo-60-seed1-v2.db").exists()  # cached for the next run

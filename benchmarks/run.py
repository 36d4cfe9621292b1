"""`python -m benchmarks` (`make bench`): every budget of DESIGN §8, with its ratio.

Usage: python -m benchmarks [--clients 100000] [--small 1000] [--runs 5] [--repeats 9]
                            [--data DIR] [--no-import]
"""

from __future__ import annotations

import argparse
import compileall
import csv
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import coldstart, data, interactive

START_RATIO = 1.3
RSS_RATIO = 1.5
SCREEN_S = 0.100
KEYSTROKE_S = 0.050
QUEUE_S = 0.100
IMPORT_S = 15.0
# A month's programme report is counted from every contact, follow-up and screening
# of the month (up to 170,000 contacts in the benchmark's busiest): long work, shown
# step by step, not a screen opening. Its screen opens within SCREEN_S like any other.
REPORT_S = 2.0
GROWTH = 1.10  # "does not grow with size": 100k start within 10 % of the 1k start
FORBIDDEN = (
    "alembic",
    "faker",
    "argon2",
    "cm_tui.screening",
    "sqlalchemy.dialects.postgresql",
    "textual.widgets._text_area",
    "cm_tui.store.models_later",
)


@dataclass
class Line:
    name: str
    figure: str
    budget: str
    ratio: float | None  # measured / allowed, or app / floor for relative budgets
    limit: float | None  # the ratio that must not be exceeded
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.ratio is None or self.limit is None:
            return "—"
        return "ok" if self.ratio <= self.limit else "OVER"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def median(values: list[float]) -> float:
    return statistics.median(values)


def cold_starts(
    big: data.Database, small: data.Database, runs: int, env: dict[str, str], log
) -> dict[str, list[coldstart.Run]]:  # type: ignore[no-untyped-def]
    targets = {
        "floor": ("floor", []),
        "big": ("cm-tui", ["--demo", "--db", str(big.path)]),
        "small": ("cm-tui", ["--demo", "--db", str(small.path)]),
    }
    results: dict[str, list[coldstart.Run]] = {k: [] for k in targets}
    compile_package(log)
    log("cold start: one warm-up each (file cache), then alternating runs …")
    for target, args in targets.values():
        coldstart.run_once(target, args, env)
    for i in range(runs):
        order = list(targets.items()) if i % 2 == 0 else list(reversed(targets.items()))
        for key, (target, args) in order:
            results[key].append(coldstart.run_once(target, args, env))
        log(
            f"  run {i + 1}/{runs}: "
            + ", ".join(f"{k} {results[k][-1].seconds * 1000:.0f} ms" for k in targets)
        )
    return results


def compile_package(log) -> None:  # type: ignore[no-untyped-def]
    """cm-tui's own modules to bytecode, as an installed package has them.

    pip compiles a package as it installs it, so the floor's Textual and SQLModel
    load from .pyc files. cm-tui here is an editable install run from the source
    tree, whose .pyc files the interpreter writes on first import, unless
    PYTHONDONTWRITEBYTECODE is set (it is on some machines, this one included):
    then every start compiled all of cm-tui from source, ~60 ms measured as
    start-up that an installed cm-tui never pays. compileall writes them anyway
    and skips what is up to date.
    """
    spec = importlib.util.find_spec("cm_tui")
    assert spec is not None and spec.submodule_search_locations
    log("compiling cm_tui to bytecode (as an installed package is) …")
    compileall.compile_dir(spec.submodule_search_locations[0], quiet=1)


def csv_import(clients: int, data_dir: Path, env: dict[str, str], log) -> Line:  # type: ignore[no-untyped-def]
    name = f"import {clients:,} clients from CSV"
    budget = f"< {IMPORT_S:.0f} s"
    from cm_tui.cli import main as cli

    group = cli.commands.get("import")  # type: ignore[attr-defined]
    if group is None or "clients" not in getattr(group, "commands", {}):
        return Line(name, "not built yet (issue 10)", budget, None, None)
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        path = Path(tmp) / "panel.csv"
        _write_panel(path, clients)
        db = Path(tmp) / "import.db"
        from cm_tui.store.db import open_store

        open_store(f"sqlite:///{db}").close()
        log(f"import: cm-tui import clients ({clients:,} rows) …")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "cm_tui", "--db", str(db), "import", "clients", str(path)],
            capture_output=True,
            text=True,
            env=env,
        )
        seconds = time.monotonic() - started
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return Line(name, f"failed: {last[0][:60]}", budget, None, None)
    return Line(name, f"{seconds:.1f} s", budget, seconds / IMPORT_S, 1.0)


def _write_panel(path: Path, rows: int) -> None:
    rnd = random.Random(7)
    given = ("Ana", "Luis", "Mai", "Omar", "Grace", "Tomas", "Leila", "Sam", "Ruth", "Kofi")
    family = ("Nguyen", "Garcia", "Smith", "Okafor", "Jensen", "Tran", "Lopez", "Haddad")
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["mrn", "given_name", "family_name", "dob", "phone", "preferred_contact",
             "language", "risk_tier", "program", "pcp_name", "pcp_practice", "pcp_phone"]
        )  # fmt: skip
        for i in range(rows):
            out.writerow(
                [f"P{i:07d}", rnd.choice(given), rnd.choice(family),
                 f"19{rnd.randint(30, 99)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                 f"(503) 555-{rnd.randint(0, 9999):04d}", "phone", "English",
                 rnd.choice(("low", "rising", "high")), "CCM", "Dr. Lee", "Eastside Clinic",
                 "(503) 555-0100"]
            )  # fmt: skip


def table(lines: list[Line]) -> str:
    head = ("budget (DESIGN §8)", "measured", "budget", "ratio", "")
    rows = [head] + [
        (
            ln.name,
            ln.figure,
            ln.budget,
            ""
            if ln.ratio is None
            else f"{ln.ratio:.2f}" + (f" / {ln.limit:.2f}" if ln.limit else ""),
            ln.verdict if ln.ratio is not None else "",
        )
        for ln in lines
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {ln.name}: {ln.note}" for ln in lines if ln.note]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000, help="clients in the big DB")
    parser.add_argument("--small", type=int, default=1_000, help="clients in the small DB")
    parser.add_argument("--runs", type=int, default=5, help="cold starts of each program")
    # 9, not 5: on this shared 2-core machine one open in three or four can take two or
    # three times as long as the rest, and a median of 5 swung by ±30 % between runs.
    parser.add_argument("--repeats", type=int, default=9, help="opens of each screen")
    parser.add_argument("--data", type=Path, default=data.DATA_DIR, help="cache folder")
    parser.add_argument("--no-import", action="store_true", help="skip the CSV import")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    env = {
        **os.environ,
        "CM_TUI_CONFIG": str(args.data / "no-config.toml"),  # no user config in the way
        "CM_TUI_DATA_DIR": str(args.data / "home"),
    }
    os.environ.update({k: env[k] for k in ("CM_TUI_CONFIG", "CM_TUI_DATA_DIR")})
    big = data.demo_database(args.clients, args.data, log=log)
    small = data.demo_database(args.small, args.data, log=log)
    load_before = os.getloadavg()[0]

    runs = cold_starts(big, small, args.runs, env, log)
    floor_s = median([r.seconds for r in runs["floor"]])
    floor_rss = median([r.peak_rss_mib for r in runs["floor"]])
    lines: list[Line] = []
    for key, db in (("big", big), ("small", small)):
        app_s = median([r.seconds for r in runs[key]])
        lines.append(
            Line(
                f"cold start to first caseload rows, {db.clients:,} clients",
                ms(app_s),
                f"≤ {START_RATIO} × floor ({ms(floor_s)})",
                app_s / floor_s,
                START_RATIO,
                note=f"medians of {len(runs[key])}: "
                + ", ".join(f"{r.seconds * 1000:.0f}" for r in runs[key])
                + " ms; floor "
                + ", ".join(f"{r.seconds * 1000:.0f}" for r in runs["floor"])
                + " ms",
            )
        )
    big_s = median([r.seconds for r in runs["big"]])
    small_s = median([r.seconds for r in runs["small"]])
    lines.append(
        Line(
            f"start cost vs size ({big.clients:,} vs {small.clients:,} clients)",
            f"{ms(big_s)} vs {ms(small_s)}",
            f"no growth (≤ {GROWTH:.2f} ×)",
            big_s / small_s,
            GROWTH,
        )
    )
    for key, db in (("big", big), ("small", small)):
        rss = median([r.peak_rss_mib for r in runs[key]])
        lines.append(
            Line(
                f"peak memory (RSS), {db.clients:,} clients",
                f"{rss:.0f} MiB",
                f"≤ {RSS_RATIO} × floor ({floor_rss:.0f} MiB)",
                rss / floor_rss,
                RSS_RATIO,
            )
        )
    loaded = sorted({m for r in runs["big"] + runs["small"] for m in r.modules})
    bad = [m for m in loaded if m.startswith(FORBIDDEN)]
    lines.append(
        Line(
            "start path keeps heavy modules out",
            "none loaded" if not bad else "loaded: " + ", ".join(bad),
            "no " + ", ".join(m.rsplit(".", 1)[-1].lstrip("_") for m in FORBIDDEN),
            float(len(bad)),
            0.0,
        )
    )

    words = data.search_words(big.path)
    log(f"screens and search on {big.clients:,} clients (Pilot, headless) …")
    found = interactive.run(str(big.path), repeats=args.repeats, search_words=words)
    for samples in found.screens:
        lines.append(
            Line(
                f"open screen: {samples.name}",
                f"{ms(samples.median)} (worst {ms(samples.worst)})",
                f"< {ms(SCREEN_S)}",
                samples.median / SCREEN_S,
                1.0,
            )
        )
    s = found.search
    lines.append(
        Line(
            "caseload search, one keystroke",
            f"{ms(s.median)} (worst {ms(s.worst)})",
            f"< {ms(KEYSTROKE_S)}",
            s.median / KEYSTROKE_S,
            1.0,
            note=s.note,
        )
    )
    for samples in found.team:
        budget = QUEUE_S if samples.name == "follow-up queue, team" else SCREEN_S
        budget_text = f"< {ms(budget)}"
        if samples.name == interactive.REPORT_FIGURES:
            # Long work, not a screen opening (a departure from DESIGN §8; README).
            budget, budget_text = REPORT_S, f"< {REPORT_S:.0f} s, shown step by step"
        lines.append(
            Line(
                samples.name,
                f"{ms(samples.median)} (worst {ms(samples.worst)})",
                budget_text,
                samples.median / budget,
                1.0,
                note=found.team_note if samples.name == "follow-up queue, team" else "",
            )
        )
    if args.no_import:
        lines.append(Line(f"import {args.clients:,} clients from CSV", "skipped", "", None, None))
    else:
        lines.append(csv_import(args.clients, args.data, env, log))

    print()
    print(f"cm-tui benchmarks · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · "
          f"load average {load_before:.2f} → {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"big DB:   {big.describe()}")
    print(f"small DB: {small.describe()}")
    print()
    print(table(lines))
    over = [ln.name for ln in lines if ln.verdict == "OVER"]
    print()
    print("all budgets hold" if not over else f"over budget: {'; '.join(over)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

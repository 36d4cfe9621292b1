"""Cold start and peak memory as whole processes, under a pseudo-terminal.

Each run spawns a fresh interpreter on a pty (120x40), runs the program through
probe.py and takes the time from spawn to the first frame painted with
caseload rows; peak resident memory is the child's ru_maxrss from wait4().
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

PROBE = Path(__file__).with_name("probe.py")
TIMEOUT_S = 60.0
COLUMNS, LINES = 120, 40


class RunFailed(RuntimeError):
    pass


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    rows: int
    modules: list[str] = field(default_factory=list)


def run_once(target: str, args: list[str], env: dict[str, str] | None = None) -> Run:
    """Spawn `probe.py target args` on a fresh pty; time it to the first painted rows."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    report_r, report_w = os.pipe()
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("TERM", "xterm-256color")
    child_env.pop("COLUMNS", None)
    child_env.pop("LINES", None)
    argv = [sys.executable, str(PROBE), str(report_w), target, *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        pass_fds=(report_w,),
        env=child_env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    os.close(report_w)
    report = b""
    screen = bytearray()
    open_fds = [master, report_r]
    deadline = started + TIMEOUT_S
    try:
        while open_fds and time.monotonic() < deadline:
            ready, _, _ = select.select(open_fds, [], [], 0.5)
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    open_fds.remove(fd)
                elif fd == report_r:
                    report += chunk
                else:
                    screen += chunk[-4096:]
                    del screen[:-8192]
            if not open_fds or (proc.poll() is not None and master not in ready):
                break
        else:
            if open_fds:
                proc.kill()
                raise RunFailed(f"{target}: no rows painted within {TIMEOUT_S:.0f} s")
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        os.close(master)
        os.close(report_r)
        if proc.returncode is None and proc.poll() is None:
            proc.kill()
            proc.wait()
    if not report.strip():
        tail = screen.decode("utf-8", "replace")[-600:]
        raise RunFailed(f"{target} exited (status {status}) without painting rows: {tail!r}")
    data = json.loads(report.decode().splitlines()[0])
    return Run(
        seconds=data["painted"] - started,
        peak_rss_mib=usage.ru_maxrss / 1024,
        rows=int(data["rows"]),
        modules=list(data["modules"]),
    )

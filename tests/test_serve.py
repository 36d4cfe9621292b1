"""`cm-tui serve` in a real browser: headless Chromium loads the page and the terminal
it draws shows the sign-in screen of a real (non-demo) database.

The terminal's text is read from xterm.js's own screen buffer (what the canvas draws),
over the Chrome DevTools Protocol with aiohttp's websocket client (textual-serve's own
dependency): no chromedriver, no download of anything.

Needs Debian's chromium (`apt-get install chromium`). Without it the test is skipped
on a developer machine, and fails under CI (`CI=true`): CI must really run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cm_tui.cli_serve import app_command, is_loopback
from cm_tui.store.db import open_store
from tests.factories import add_user

DEADLINE = 40.0  # seconds for the whole page to show the sign-in screen

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,800",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]

# Runs before the page's own scripts: textual-serve's client keeps its xterm.js
# Terminal in `this.terminal`; a setter on Object.prototype notes it when assigned, so
# the test can read the screen buffer (the canvas renderer leaves no text in the DOM).
HOOK = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && !window.__cmTerminal) window.__cmTerminal = value;
  },
});
"""

SCREEN = """
(() => {
  const t = window.__cmTerminal;
  if (!t) return null;
  const b = t.buffer.active, lines = [];
  for (let y = 0; y < t.rows; y++) {
    const line = b.getLine(b.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "headless Chromium is not installed: apt-get install chromium"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{message} (CI must run the browser test; .ci/run installs it)")
    pytest.skip(f"{message} (Debian/Ubuntu), then run this test again")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End the process and everything it started (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers: app sessions, renderers
    proc.wait(5)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(no output)"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`cm-tui serve` on a free loopback port, over a SQLite database with one user."""
    db = tmp_path / "team.db"
    store = open_store(f"sqlite:///{db}")
    add_user(store, "alice", role="admin", display_name="Alice Admin")
    store.close()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cm_tui", "--db", str(db), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"cm-tui serve exited:\n{tail(log)}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"cm-tui serve never listened:\n{tail(log)}"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[str]:
    """Headless Chromium; yields its DevTools HTTP address."""
    binary = chromium()
    profile = tmp_path / "chromium-profile"
    log = tmp_path / "chromium.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (active.exists() and active.read_text().strip()):
            assert proc.poll() is None, f"chromium exited:\n{tail(log)}"
            assert time.monotonic() < deadline, f"chromium never opened DevTools:\n{tail(log)}"
            time.sleep(0.1)
        port = active.read_text().split()[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class DevTools:
    """The smallest CDP client: send a command, wait for its answer."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = count(1)

    async def __call__(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads((await self.ws.receive(timeout=15)).data)
            if message.get("id") == ident:
                assert "error" not in message, message
                return dict(message.get("result", {}))


async def screen_text(devtools: str, url: str) -> tuple[str, bool]:
    """Open ``url`` and wait for the sign-in screen; the terminal's text and whether the
    page shows the terminal (textual-serve fades it in on its first bytes)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{devtools}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = DevTools(ws)
            await cdp("Page.enable")
            await cdp("Page.addScriptToEvaluateOnNewDocument", source=HOOK)
            await cdp("Page.navigate", url=url)
            text, shown = "", False
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                result = await cdp("Runtime.evaluate", expression=SCREEN, returnByValue=True)
                text = result["result"].get("value") or ""
                if "sign in" in text and "Password" in text:
                    shown_result = await cdp(
                        "Runtime.evaluate",
                        expression="document.body.classList.contains('-first-byte')",
                        returnByValue=True,
                    )
                    shown = bool(shown_result["result"].get("value"))
                    if shown:
                        break
                await asyncio.sleep(0.25)
            return text, shown


async def test_browser_shows_the_sign_in_screen(browser: str, server: str) -> None:
    text, shown = await screen_text(browser, server)
    assert "cm-tui — sign in" in text, f"the terminal showed:\n{text}"
    assert "Username" in text and "Password" in text and "Sign in" in text, text
    assert shown, "the page never showed the terminal"
    assert "DEMO DATA" not in text  # a real database: nobody is signed in by default


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org"))


def test_the_database_url_reaches_sessions_by_environment_not_argv() -> None:
    from cm_tui.cli import Options

    secret = "postgresql+psycopg://cm:s3cret@db.internal/cm"
    command, env = app_command(Options(None, secret, None, False), secret)
    assert "s3cret" not in command and env["CM_TUI_DATABASE_URL"] == secret
    assert command.endswith("-m cm_tui")  # no --demo: the sign-in screen comes first
    demo, _ = app_command(Options("/tmp/d.db", None, "demo", True), "sqlite:////tmp/d.db")
    assert "--demo" in demo and "--user demo" in demo

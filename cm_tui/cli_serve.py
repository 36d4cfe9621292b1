"""`cm-tui serve`: the same app in a browser, through textual-serve.

Every browser tab that opens the page starts its own `cm-tui` process on this
machine (same database options as `cm-tui serve` was given) and sees its sign-in
screen first (a demo database signs in as the demo user, as `cm-tui --demo` does).

Registered by the main CLI with `main.add_command(serve)`.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cm_tui.cli import Options

URL_ENV = "CM_TUI_DATABASE_URL"


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() in {"localhost", "localhost.", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: may be reachable from outside


def app_command(opts: Options, url: str) -> tuple[str, dict[str, str]]:
    """The shell command each browser session runs, and the environment it needs.

    The database URL goes through the environment (``CM_TUI_DATABASE_URL``), not
    the command line, so a password in it never shows in the process list.
    """
    args = [sys.executable, "-m", "cm_tui"]
    env = {URL_ENV: url}
    if opts.demo:
        # --demo picks its own default file before the environment is read, so a
        # demo session names its database (a demo one: no secrets) on the command line.
        args += ["--demo", "--database-url", url]
        if opts.user:
            args += ["--user", opts.user]
    return shlex.join(args), env


def loopback_warning(host: str, port: int) -> str:
    return (
        f"WARNING: serving on {host}, which other machines can reach. Anyone who can reach "
        "this port gets the sign-in screen, and everything after it travels unencrypted "
        "(plain HTTP): health information on the network. Prefer the default 127.0.0.1 "
        f"with an SSH tunnel (ssh -L {port}:127.0.0.1:{port} THIS-HOST), or put a reverse proxy "
        "with TLS in front and give its address as --public-url."
    )


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Keep the loopback default and use an SSH tunnel.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public-url",
    metavar="URL",
    help="The address browsers use, e.g. behind a TLS reverse proxy (default: http://HOST:PORT).",
)
@click.pass_obj
def serve(opts: Options, host: str, port: int, public_url: str | None) -> None:
    """Serve the app to a web browser (textual-serve): one app session per browser tab.

    Takes the app's database options before the command, e.g.
    `cm-tui --database-url URL serve`. Everyone signs in as in the terminal.
    """
    from textual_serve.server import Server

    from cm_tui.cli import fail, open_or_fail

    try:
        url = opts.url()
    except ValueError as exc:  # a broken config file
        fail(str(exc))
    # Open (and migrate) once here, so a bad database fails now, not in each tab.
    open_or_fail(url).close()
    if not is_loopback(host):
        click.echo(f"cm-tui: {loopback_warning(host, port)}", err=True)
    command, env = app_command(opts, url)
    os.environ.update(env)  # inherited by every session's process
    server = Server(
        command,
        host=host,
        port=port,
        title="cm-tui",
        public_url=public_url.rstrip("/") if public_url else None,
    )
    server.serve()

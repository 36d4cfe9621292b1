"""`cm-tui`: the app, and the commands around it (DESIGN §2)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from cm_tui import runtime
from cm_tui.config import resolve_database_url
from cm_tui.store.db import Store, StoreError, open_store


@dataclass
class Options:
    db: str | None
    database_url: str | None
    user: str | None
    demo: bool

    def url(self, db: str | None = None, *, demo: bool | None = None) -> str:
        return resolve_database_url(
            db or self.db, self.database_url, demo=self.demo if demo is None else demo
        )


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"cm-tui: {message}", err=True)
    sys.exit(code)


def open_or_fail(url: str, **kw: Any) -> Store:
    try:
        store = open_store(url, **kw)
    except StoreError as exc:
        fail(str(exc))
    for warning in store.warnings:
        click.echo(f"cm-tui: warning: {warning}", err=True)
    return store


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="SQLite database file (default: in the user data dir).")
@click.option(
    "--database-url", metavar="URL", help="e.g. postgresql+psycopg://host/db (team mode)."
)
@click.option("--user", metavar="NAME", help="With --demo: which demo user to sign in as.")
@click.option(
    "--demo",
    is_flag=True,
    help="Open (and if empty, build) a demo database; sign in as the demo care manager.",
)
@click.option("--demo-clients", default=300, show_default=True, hidden=True, type=int)
@click.version_option(package_name="cm-tui", prog_name="cm-tui")
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    database_url: str | None,
    user: str | None,
    demo: bool,
    demo_clients: int,
) -> None:
    """cm-tui: a keyboard-first tool for care-management teams.

    Without a command, starts the app.
    """
    ctx.obj = Options(db, database_url, user, demo)
    if ctx.invoked_subcommand is not None:
        runtime.start_up_over()  # collection back on for the work of a subcommand
        return
    from cm_tui.app import make_app

    try:
        app = make_app(database_url, db=db, user=user, demo=demo, demo_clients=demo_clients)
    except StoreError as exc:
        fail(str(exc))
    except ValueError as exc:  # a broken config file
        fail(str(exc))
    app.run()
    app.store.close()
    sys.exit(app.return_code or 0)


# ---------------------------------------------------------------- demo-data


class _Progress:
    """A one-line progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.stage = ""
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.stage and self.tty:
                click.echo("", err=True)
            self.stage = stage
            if not self.tty:
                click.echo(f"  {stage} ({total:,})", err=True)
        if not self.tty:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
        click.echo(f"\r  {stage:<22} {bar} {frac:4.0%} {done:>10,}/{total:,}", err=True, nl=False)

    def close(self) -> None:
        if self.tty and self.stage:
            click.echo("", err=True)


@main.command("demo-data")
@click.option(
    "--db", metavar="PATH", help="SQLite file to create (default: demo.db in the data dir)."
)
@click.option(
    "--clients", type=click.IntRange(1, 5_000_000), required=True, help="How many clients."
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Same seed, same organisation."
)
@click.option(
    "--contacts-per-client", type=click.FloatRange(0, 1000), default=10.0, show_default=True
)
@click.option(
    "--followups-per-client", type=click.FloatRange(0, 100), default=3.0, show_default=True
)
@click.pass_obj
def demo_data(
    opts: Options,
    db: str | None,
    clients: int,
    seed: int,
    contacts_per_client: float,
    followups_per_client: float,
) -> None:
    """Build a synthetic organisation (faker) in an empty database."""
    from cm_tui.services.demo import DEMO_PASSWORD, generate_demo

    store = open_or_fail(opts.url(db, demo=True))
    progress = _Progress()
    try:
        summary = generate_demo(
            store,
            clients=clients,
            seed=seed,
            contacts_per_client=contacts_per_client,
            followups_per_client=followups_per_client,
            progress=progress,
        )
    except ValueError as exc:
        progress.close()
        fail(str(exc))
    finally:
        store.close()
    progress.close()
    click.echo(
        f"Demo organisation in {store.describe()} ({summary.seconds:.1f} s): "
        f"{summary.users} staff, {summary.clients:,} clients, {summary.contacts:,} contacts, "
        f"{summary.followups:,} follow-ups, {summary.screenings:,} screenings, "
        f"{summary.needs:,} needs, {summary.referrals:,} referrals, {summary.resources} resources."
    )
    roles: dict[str, list[str]] = {}
    for name, role in summary.usernames:
        roles.setdefault(role, []).append(name)
    for role, names in roles.items():
        shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
        click.echo(f"  {role}: {shown}")
    click.echo(f"Every demo user's password is {DEMO_PASSWORD!r}.")


# ---------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Schema upgrades, integrity checks and backups."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(opts: Options) -> None:
    """Apply pending schema migrations (a backup is made first)."""
    from cm_tui.store.schema_version import SCHEMA_HEAD

    store = open_or_fail(opts.url())
    click.echo(f"{store.describe()}: schema is at {SCHEMA_HEAD}.")
    store.close()


@db.command("check")
@click.pass_obj
def db_check(opts: Options) -> None:
    """Integrity and foreign-key checks, and the team view's counts against the rows
    they count; exit 1 if anything is wrong."""
    from cm_tui.store.maintenance import check, counts_drift

    store = open_or_fail(opts.url(), migrate=False)
    try:
        report = check(store)
        drift = counts_drift(store) if report.ok else []
    finally:
        store.close()
    if report.ok and not drift:
        click.echo(f"{store.describe()}: integrity ok, foreign keys ok, team counts ok.")
        return
    for line in report.integrity:
        if line != "ok":
            click.echo(f"integrity: {line}")
    for line in report.foreign_keys:
        click.echo(f"foreign key: {line}")
    for line in drift:
        click.echo(f"team counts: {line}")
    if drift:
        click.echo("`cm-tui db recount` rebuilds the team counts from the rows.")
    sys.exit(1)


@db.command("recount")
@click.pass_obj
def db_recount(opts: Options) -> None:
    """Rebuild the team view's counts from the rows (after a restore that bypassed
    the database's triggers, or when `db check` finds them off); safe while in use."""
    from cm_tui.store import audit
    from cm_tui.store.maintenance import counts_drift, recount

    store = open_or_fail(opts.url(), migrate=False)
    try:
        drift = counts_drift(store)
        recount(store)
        with store.write() as session:
            audit.record(
                session,
                action="update",
                entity="database",
                detail=f"team counts rebuilt from the rows ({len(drift)} differed)",
            )
        left = counts_drift(store)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    if left:
        fail(f"the counts still differ after the rebuild: {left[0]}")
    click.echo(
        f"Rebuilt the team counts of {store.describe()} from the rows "
        f"({len(drift)} differed{'' if not drift else ': ' + drift[0]})."
    )


@db.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_obj
def db_backup(opts: Options, dest: Path) -> None:
    """Copy the database to DEST (consistent while the app is in use; file mode 0600)."""
    from cm_tui.store import audit
    from cm_tui.store.maintenance import backup_sqlite

    store = open_or_fail(opts.url(), migrate=False)
    try:
        written = backup_sqlite(store, dest)
        with store.write() as session:
            audit.record(session, action="export", entity="database", detail=f"backup to {written}")
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    size = os.path.getsize(written)
    click.echo(f"Backed up {store.describe()} to {written} ({size / 1e6:.1f} MB).")


# ---------------------------------------------------------------- users


@main.group()
def user() -> None:
    """Add users, change passwords, deactivate."""


def _password(prompt: str = "Password") -> str:
    env = os.environ.get("CM_TUI_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        fail("no terminal to ask for a password; set CM_TUI_PASSWORD.")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["care_manager", "chw", "supervisor", "admin"]),
    default="care_manager",
    show_default=True,
)
@click.option("--display-name", help="Full name as colleagues see it.")
@click.pass_obj
def user_add(opts: Options, name: str, role: str, display_name: str | None) -> None:
    """Create a user (password prompted, or CM_TUI_PASSWORD)."""
    from cm_tui.services import auth

    store = open_or_fail(opts.url())
    try:
        auth.add_user(store, name, _password(), role=role, display_name=display_name)
    except auth.AuthError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"Added {name} ({role}).")


@user.command("passwd")
@click.argument("name")
@click.pass_obj
def user_passwd(opts: Options, name: str) -> None:
    """Set a new password for NAME."""
    from cm_tui.services import auth

    store = open_or_fail(opts.url())
    try:
        auth.set_password(store, name, _password("New password"))
    except auth.AuthError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"Password changed for {name}.")


@user.command("deactivate")
@click.argument("name")
@click.pass_obj
def user_deactivate(opts: Options, name: str) -> None:
    """Stop NAME from signing in (their records and history stay)."""
    from cm_tui.services import auth

    store = open_or_fail(opts.url())
    try:
        auth.set_active(store, name, False)
    except auth.AuthError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"{name} can no longer sign in.")


# ---------------------------------------------------------------- audit


@main.group()
def audit() -> None:
    """The audit trail (a hash chain of every view and change)."""


@audit.command("verify")
@click.pass_obj
def audit_verify(opts: Options) -> None:
    """Check the hash chain; exit 0 if intact, 1 naming the first bad event."""
    from cm_tui.store import audit as audit_store

    store = open_or_fail(opts.url(), migrate=False)
    try:
        with store.read() as session:
            count, problem = audit_store.verify(session)
    finally:
        store.close()
    if problem is None:
        click.echo(f"Audit chain intact: {count:,} events.")
        return
    click.echo(f"Audit chain broken at event {problem.event_id}: {problem.reason}.")
    sys.exit(1)


from cm_tui.cli_scripts import scripts  # noqa: E402  (registered after the core commands)

main.add_command(scripts)

from cm_tui.cli_interchange import export_command, import_group, report_command  # noqa: E402

main.add_command(import_group)
main.add_command(export_command)
main.add_command(report_command)

from cm_tui.cli_serve import serve  # noqa: E402

main.add_command(serve)

if __name__ == "__main__":  # pragma: no cover
    main()

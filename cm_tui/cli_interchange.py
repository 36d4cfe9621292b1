"""`cm-tui import`, `cm-tui export` and `cm-tui report` (DESIGN §2, §7).

Registered by the main CLI with `main.add_command(...)`.

Who runs these commands: on a local SQLite file, the operating-system user
(whoever can open the file already holds the data), recorded in every audit
event; `--user NAME` narrows what they see to that user's records. On
PostgreSQL `--user` is required, with the password asked for (or taken from
CM_TUI_PASSWORD), except on a demo database.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from cm_tui.cli import Options, _Progress, fail, open_or_fail
from cm_tui.services.interchange import InterchangeError
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, StoreError

# ---------------------------------------------------------------- who is running this


def _login_password() -> str:
    env = os.environ.get("CM_TUI_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        fail("no terminal to ask for a password; set CM_TUI_PASSWORD.")
    return str(click.prompt("Password", hide_input=True))


def acting_viewer(opts: Options, store: Store) -> tuple[Viewer | None, str | None]:
    """(viewer, actor): the user whose access applies (None: all records) and who ran it."""
    from cm_tui.services import auth
    from cm_tui.store.audit import os_user

    if store.is_sqlite:
        if not opts.user:
            return None, None  # the audit records the OS user
        with store.read() as session:
            user = auth.get_user(session, opts.user)
        if user is None or not user.active:
            fail(f"no active user {opts.user!r} in {store.describe()}.")
        return Viewer.of(user), os_user()
    if not opts.user:
        fail(
            "on a shared database, say who you are: --user NAME "
            "(the password is asked for, or set CM_TUI_PASSWORD)."
        )
    try:
        if store.is_demo:
            return auth.sign_in_without_password(store, opts.user), None
        return auth.authenticate(store, opts.user, _login_password()), None
    except auth.AuthError as exc:
        fail(str(exc))


def _progress() -> _Progress | None:
    """A progress bar on a terminal; nothing for scripts (stderr stays one line on errors)."""
    return _Progress() if sys.stderr.isatty() else None


def _close(progress: _Progress | None) -> None:
    if progress is not None:
        progress.close()


@contextmanager
def _writing_out(store: Store, progress: _Progress | None = None) -> Iterator[None]:
    """An export or report: its errors end the command with their message (after the
    progress bar), a closed pipe (`cm-tui export clients | head`) ends it quietly, and
    the store is closed either way."""
    try:
        yield
    except (InterchangeError, StoreError) as exc:
        _close(progress)
        fail(str(exc))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    finally:
        store.close()


# ---------------------------------------------------------------- import


@click.group("import")
def import_group() -> None:
    """Import clients, ED visits and admissions, or community resources from CSV."""


def _import_options(fn: Any) -> Any:
    fn = click.option(
        "--errors",
        "errors_path",
        metavar="PATH",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the per-row problem report (default: FILE.errors.csv).",
    )(fn)
    fn = click.option(
        "--mapping",
        "mapping_file",
        metavar="TOML",
        type=click.Path(dir_okay=False, path_type=Path),
        help='A mapping file: [columns] "Column in file" = "field".',
    )(fn)
    fn = click.option(
        "--map",
        "maps",
        multiple=True,
        metavar="COLUMN=FIELD",
        help="Read COLUMN as FIELD ('COLUMN=' skips it); repeatable.",
    )(fn)
    fn = click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")(
        fn
    )
    fn = click.argument("file", type=click.Path(path_type=Path))(fn)
    return fn


def _run_import(
    opts: Options,
    kind: str,
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    mapping_file: Path | None,
    errors_path: Path | None,
) -> None:
    from cm_tui.services import importer

    try:
        mapping = importer.load_mapping(mapping_file) if mapping_file else {}
        mapping.update(importer.parse_map_options(maps))
    except InterchangeError as exc:
        fail(str(exc))
    store = open_or_fail(opts.url())
    progress = _progress()
    try:
        viewer, _actor = acting_viewer(opts, store)
        run = importer.import_clients if kind == "clients" else importer.import_events
        result = run(
            store, file, mapping=mapping, dry_run=dry_run, viewer=viewer, progress=progress
        )
    except (InterchangeError, StoreError) as exc:
        _close(progress)
        fail(str(exc))
    finally:
        store.close()
    _close(progress)
    if result.errors or errors_path is not None:
        report_path = errors_path or importer.default_error_path(file)
        try:
            importer.write_error_report(result, report_path)
        except InterchangeError as exc:
            fail(f"{result.summary()} The problem report could not be written: {exc}")
        if result.errors:
            fail(f"{result.summary()} Every problem is listed in {report_path}.")
    click.echo(result.summary())


@import_group.command("clients")
@_import_options
@click.pass_obj
def import_clients_command(
    opts: Options,
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    mapping_file: Path | None,
    errors_path: Path | None,
) -> None:
    """Import a panel list: one client per row, headers are client fields.

    Rows are matched on mrn: new MRNs are added, known ones updated, and importing
    the same file twice changes nothing. One transaction: a file with any problem
    writes nothing, and every problem is listed (line, column, what is wrong).
    """
    _run_import(opts, "clients", file, dry_run, maps, mapping_file, errors_path)


@import_group.command("events")
@_import_options
@click.pass_obj
def import_events_command(
    opts: Options,
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    mapping_file: Path | None,
    errors_path: Path | None,
) -> None:
    """Import ED visits and hospital admissions: mrn, kind, occurred_at, facility.

    kind is ed_visit, admission or readmission; occurred_at a date (2026-10-03) or
    a time (2026-10-03T14:30). Events already recorded are left alone.
    """
    _run_import(opts, "events", file, dry_run, maps, mapping_file, errors_path)


@import_group.command("resources")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.pass_obj
def import_resources_command(opts: Options, file: Path, dry_run: bool) -> None:
    """Import community resources: name, domains, phone, address, hours,
    eligibility, languages, notes.

    domains and languages take several values separated by ';' (food; housing).
    A name already in the directory updates that entry. One transaction: a file
    with any problem writes nothing, and every problem is listed.
    """
    from cm_tui.services import resources

    store = open_or_fail(opts.url())
    try:
        viewer, _actor = acting_viewer(opts, store)
        result = resources.import_resources(store, file, dry_run=dry_run, viewer=viewer)
    except (InterchangeError, StoreError) as exc:
        fail(str(exc))
    finally:
        store.close()
    if result.errors:
        from cm_tui.services import importer

        report_path = importer.default_error_path(file)
        listed = importer.ImportResult("resources", file, dry_run, errors=result.errors)
        try:
            importer.write_error_report(listed, report_path)
        except InterchangeError as exc:
            fail(f"{result.summary()} The problem report could not be written: {exc}")
        fail(f"{result.summary()} Every problem is listed in {report_path}.")
    click.echo(result.summary())


# ---------------------------------------------------------------- export


def _stdout() -> IO[str]:
    return sys.stdout


@click.command("export")
@click.argument("table", metavar="TABLE|fhir|careplan")
@click.argument("client", metavar="[CLIENT]", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "md", "html"]),
    default=None,
    help="Tables: csv (default) or jsonl. careplan: md (default) or html (print-ready).",
)
@click.option(
    "--out",
    metavar="PATH",
    type=click.Path(path_type=Path),
    help="File to write (0600); for fhir a folder of bundles. Default: standard output.",
)
@click.option(
    "--transaction",
    is_flag=True,
    help="fhir: one transaction Bundle (to --out FILE or standard output) "
    "instead of a collection Bundle per client.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="fhir: the server base the resource URLs are written against.",
)
@click.pass_obj
def export_command(
    opts: Options,
    table: str,
    client: str | None,
    fmt: str | None,
    out: Path | None,
    transaction: bool,
    base_url: str | None,
) -> None:
    """Export a table (clients, contacts, screenings, needs, referrals, follow-ups,
    utilization-events, audit) as CSV or JSON Lines, everything as FHIR R4, or one
    client's care plan as a take-home printout (careplan CLIENT, by MRN or id).

    Only the records you may open are exported; every export is an audit event.
    """
    kind = table.strip().lower().replace("-", "").replace("_", "")
    if kind == "careplan":
        if client is None:
            fail("say whose care plan: cm-tui export careplan CLIENT (MRN or id).")
        _export_careplan(opts, client, fmt or "md", out)
        return
    if client is not None:
        fail(f"unexpected argument {client!r}: only careplan takes a CLIENT.")
    if kind == "fhir":
        _export_fhir(opts, out, transaction, base_url)
        return
    fmt = fmt or "csv"
    if fmt not in ("csv", "jsonl"):
        fail("a table exports as csv or jsonl (md and html are for careplan).")
    from cm_tui.services import export
    from cm_tui.services.interchange import open_private

    try:
        name = export.canonical_table(table)
    except InterchangeError as exc:
        fail(str(exc))
    store = open_or_fail(opts.url())
    progress = _progress() if out is not None else None
    with _writing_out(store, progress):
        viewer, actor = acting_viewer(opts, store)
        if out is None:
            result = export.export_table(
                store, name, _stdout(), fmt=fmt, viewer=viewer, actor=actor
            )
        else:
            with open_private(out) as fh:
                result = export.export_table(
                    store,
                    name,
                    fh,
                    fmt=fmt,
                    viewer=viewer,
                    actor=actor,
                    destination=str(out),
                    progress=progress,
                )
    _close(progress)
    message = f"Exported {result.rows:,} rows of {name} as {fmt} to {result.destination}."
    click.echo(message, err=out is None)


def _export_careplan(opts: Options, client: str, fmt: str, out: Path | None) -> None:
    from cm_tui.services import export
    from cm_tui.services.interchange import open_private

    if fmt not in ("md", "html"):
        fail("a care plan exports as md or html.")
    store = open_or_fail(opts.url())
    with _writing_out(store):
        viewer, actor = acting_viewer(opts, store)
        if out is None:
            doc = export.export_careplan(
                store, client, _stdout(), fmt=fmt, viewer=viewer, actor=actor
            )
        else:
            with open_private(out) as fh:
                doc = export.export_careplan(
                    store, client, fh, fmt=fmt, viewer=viewer, actor=actor, destination=str(out)
                )
    where = str(out) if out is not None else "standard output"
    click.echo(
        f"Exported the care plan of client {doc.client_id} ({doc.goals} goals, "
        f"{doc.language} labels) as {fmt} to {where}.",
        err=out is None,
    )


def _export_fhir(opts: Options, out: Path | None, transaction: bool, base_url: str | None) -> None:
    from cm_tui.services import fhir
    from cm_tui.services.interchange import open_private

    if not transaction and out is None:
        fail(
            "export fhir writes one Bundle per client into a folder: give --out DIR "
            "(or --transaction for one Bundle on standard output)."
        )
    store = open_or_fail(opts.url())
    progress = _progress() if out is not None else None
    kw: dict[str, Any] = {"base_url": base_url} if base_url else {}
    with _writing_out(store, progress):
        viewer, actor = acting_viewer(opts, store)
        if transaction:
            if out is None:
                result = fhir.export_transaction(store, _stdout(), viewer=viewer, actor=actor, **kw)
            else:
                with open_private(out) as fh:
                    result = fhir.export_transaction(
                        store,
                        fh,
                        viewer=viewer,
                        actor=actor,
                        destination=str(out),
                        progress=progress,
                        **kw,
                    )
        else:
            assert out is not None
            result = fhir.export_bundles(
                store, out, viewer=viewer, actor=actor, progress=progress, **kw
            )
    _close(progress)
    click.echo(
        f"Exported {result.clients:,} clients ({result.resources:,} FHIR resources) "
        f"to {result.destination}.",
        err=out is None,
    )


# ---------------------------------------------------------------- report


@click.command("report")
@click.option(
    "--period", metavar="YYYY-MM", help="The calendar month (local time). Default: this month."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv"]),
    default="text",
    show_default=True,
    help="text for reading; csv (section, subject, measure, value) for spreadsheets.",
)
@click.option(
    "--out",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (0600). Default: standard output.",
)
@click.option(
    "--clients",
    "with_clients",
    is_flag=True,
    help="Also list the clients at 20 or more CCM minutes (MRN, name, minutes).",
)
@click.pass_obj
def report_command(
    opts: Options, period: str | None, fmt: str, out: Path | None, with_clients: bool
) -> None:
    """Programme measures for a month: contacts and reach rate per person, CCM minutes
    per client (20/60), screenings, needs identified vs resolved, follow-up
    timeliness, ED visits and admissions per 1,000 clients."""
    import csv

    from cm_tui.services import measures
    from cm_tui.services.export import record_export
    from cm_tui.services.interchange import open_private

    try:
        month = measures.parse_period(period) if period else measures.current_period()
    except ValueError as exc:
        fail(str(exc))
    store = open_or_fail(opts.url())
    with _writing_out(store):
        viewer, actor = acting_viewer(opts, store)
        report = measures.program_report(store, month, viewer=viewer)
        listed = measures.ccm_clients(store, month, viewer=viewer) if with_clients else iter(())
        fh = open_private(out) if out is not None else _stdout()
        try:
            if fmt == "csv":
                csv.writer(fh).writerows(measures.report_rows(report, listed))
            else:
                for line in measures.report_lines(report):
                    fh.write(line + "\n")
                if with_clients:
                    fh.write("\nClients at 20 or more minutes (CCM level, consent on file)\n")
                    for c in listed:
                        consent = "CCM with consent" if c.ccm_consented else c.program or ""
                        fh.write(
                            f"  {c.mrn or '':<12} {c.name[:30]:<30} {c.minutes:>5} min  "
                            f"{c.level:>2}+  {consent}\n"
                        )
            fh.flush()
        finally:
            if out is not None:
                fh.close()
        record_export(
            store,
            viewer=viewer,
            actor=actor,
            entity="report",
            detail=(
                f"programme report {month.label} as {fmt} to {out or 'stdout'}"
                + (" with the CCM client list" if with_clients else "")
                + f"; scope: {report.scope}"
            ),
        )
    if out is not None:
        click.echo(f"Programme report for {month.label} written to {out}.")

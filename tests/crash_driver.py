"""A writer for the kill -9 harness (tests/test_crash_safety.py); run as a process:

    python tests/crash_driver.py DB setup SEED    # create the database: users, clients
    python tests/crash_driver.py DB MODE SEED     # MODE: mixed, contacts, screenings, imports
    python tests/crash_driver.py DB MODE SEED COUNT I/N   # COUNT transactions, then exit;
                                                  # screen only clients with id % N == I

It writes through the real services, as the app does, until it is killed: contacts
with a follow-up (``log_contact``, after saving the form's draft), screening answers
(``start``, ``save_answer``, ``complete``), and CSV panel imports (``import_clients``: new panels,
and re-imports of a panel that change every row). After each transaction's call has
returned, it prints one line and flushes it::

    COMMITTED contact <contact id> <follow-up id> <token> <length for note_for>
    COMMITTED screening <screening id> <client id>
    COMMITTED answer <screening id> <item id> <option id>
    COMMITTED complete <screening id>
    COMMITTED import <panel> <file name> <rows> <phone tag>

so the harness knows what must have survived. Everything it writes can be told
apart and recomputed from these lines (notes from the token, phones from the tag).
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sqlmodel import col, select  # noqa: E402

from cm_tui.store.access import Viewer  # noqa: E402
from cm_tui.store.db import Store, open_store  # noqa: E402
from cm_tui.store.models import Client, User  # noqa: E402
from cm_tui.store.types import utcnow  # noqa: E402

USERNAME = "crash-sup"
CLIENTS = 8
PANEL_ROWS = 40
SCRIPT = "phq-9"
ITEMS = [f"phq_{i}" for i in range(1, 10)]
DIFFICULTY = "phq_difficulty"  # shown only when an answer above is not 0
NOTE_PREFIX = "crash "
FOLLOWUP_PREFIX = "fu "
PANEL_PREFIX = "P"
HEADER = "mrn,given_name,family_name,dob,phone,preferred_contact,risk_tier\n"


def note_for(token: str, length: int) -> str:
    """The note a contact with this token carries (recomputable by the checker)."""
    head = f"{NOTE_PREFIX}{token} "
    filler = f"{token} pt asked about transport; " * (length // (len(token) + 30) + 1)
    return (head + filler)[:length].strip()


def phone_for(tag: int) -> str:
    return f"555-{tag}"


def panel_mrn(panel: str, row: int) -> str:
    return f"{panel}-{row:03d}"


def emit(*parts: object) -> None:
    # One write per line, well under PIPE_BUF: a line is seen whole or not at all.
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def setup(db: Path) -> None:
    setup_quietly(db)
    emit("READY setup")


def setup_quietly(db: Path) -> None:
    """A new database: the harness's supervisor and a few clients to contact."""
    store = open_store(f"sqlite:///{db}")
    try:
        with store.write() as session:
            user = User(
                username=USERNAME,
                display_name="Crash Supervisor",
                role="supervisor",
                password_hash="!not-a-login",
            )
            session.add(user)
            session.flush()
            for n in range(1, CLIENTS + 1):
                session.add(
                    Client(
                        given_name=f"Crash{n}",
                        family_name="Tester",
                        mrn=f"C{n:03d}",
                        care_manager_id=user.id,
                    )
                )
    finally:
        store.close()


class Driver:
    def __init__(self, store: Store, db: Path, seed: int, share: tuple[int, int] = (0, 1)) -> None:
        self.store = store
        self.seed = seed
        self.rng = random.Random(seed)
        self.folder = db.parent / f"panels-{db.stem}"
        self.folder.mkdir(exist_ok=True)
        self.n = 0
        with store.read() as session:
            user = session.exec(select(User).where(User.username == USERNAME)).one()
            self.viewer = Viewer.of(user)
            self.client_ids = list(
                session.exec(select(Client.id).where(col(Client.mrn).like("C%"))).all()
            )
            mrns = session.exec(
                select(Client.mrn).where(col(Client.mrn).like(f"{PANEL_PREFIX}%"))
            ).all()
        # Screenings and re-imports keep to this process's share (clients by id, panels
        # by the seed that made them; give seeds with seed % N == I): two processes
        # answering one screening would overwrite each other (the app has one writer).
        index, of = share
        self.screen_ids = [c for c in self.client_ids if c is not None and c % of == index]
        panels = {str(m).rsplit("-", 1)[0] for m in mrns if m}
        self.panels = sorted(p for p in panels if int(p[1:]) // 1_000_000 % of == index)
        self.screening: tuple[int, dict[str, list[str]]] | None = None
        from cm_tui.screening import load_builtin

        self.script = load_builtin(SCRIPT)

    def tag(self) -> int:
        """Increases across runs (seeds increase round by round) and within one."""
        return self.seed * 1_000_000 + self.n

    def contact(self) -> None:
        from cm_tui.services import contacts, drafts

        client_id = self.rng.choice(self.client_ids)
        token = f"s{self.seed}n{self.n}"
        length = self.rng.choice([40, 400, 4000, 40_000])  # some notes span many pages
        note = note_for(token, length)
        drafts.save_draft(
            self.store, self.viewer.id, drafts.CONTACT, str(client_id), {"note": note}
        )
        logged = contacts.log_contact(
            self.store,
            self.viewer,
            client_id,
            note=note,
            duration_min=self.rng.randint(1, 60),
            follow_ups=[
                contacts.FollowUpRequest(
                    due_at=utcnow() + timedelta(days=self.rng.randint(1, 30)),
                    title=f"{FOLLOWUP_PREFIX}{token}",
                )
            ],
        )
        emit("COMMITTED contact", logged.contact_id, logged.followup_ids[0], token, length)

    def _todo(self, answers: dict[str, list[str]]) -> list[str]:
        todo = [i for i in ITEMS if i not in answers]
        shown = any(v != ["0"] for k, v in answers.items() if k in ITEMS)
        if not todo and shown and DIFFICULTY not in answers:
            todo.append(DIFFICULTY)  # asked once any symptom is present
        return todo

    def answer(self) -> None:
        from cm_tui.services import screenings

        if self.screening is None:
            client_id = self.rng.choice(self.screen_ids)
            state = screenings.start(self.store, self.viewer, client_id, self.script)
            self.screening = (state.screening_id, dict(state.answers))
            emit("COMMITTED screening", state.screening_id, client_id)
            return
        sid, answers = self.screening
        todo = self._todo(answers)
        if not todo:
            screenings.complete(self.store, self.viewer, sid, self.script)
            self.screening = None
            emit("COMMITTED complete", sid)
            return
        item = todo[0]
        option = (
            "somewhat_difficult" if item == DIFFICULTY else self.rng.choice(["0", "0", "1", "3"])
        )
        screenings.save_answer(
            self.store, self.viewer, sid, self.script, item, [option], position=item
        )
        answers[item] = [option]
        emit("COMMITTED answer", sid, item, option)

    def panel_import(self) -> None:
        from cm_tui.services.importer import import_clients

        tag = self.tag()
        if self.panels and self.rng.random() < 0.4:
            panel = self.rng.choice(self.panels)  # re-import: every row's phone changes
        else:
            panel = f"{PANEL_PREFIX}{tag}"
        rows = "".join(
            f"{panel_mrn(panel, r)},Given{r},Panel{tag},1950-01-{r % 28 + 1:02d},"
            f"{phone_for(tag)},phone,low\n"
            for r in range(PANEL_ROWS)
        )
        path = self.folder / f"{panel}-at-{tag}.csv"
        path.write_text(HEADER + rows, encoding="utf-8")
        result = import_clients(self.store, path)
        if not result.ok:
            raise SystemExit(f"import refused: {result.summary()}")
        if panel not in self.panels:
            self.panels.append(panel)
        emit("COMMITTED import", panel, path.name, PANEL_ROWS, tag)

    def run(self, mode: str, count: int | None = None) -> None:
        kinds = {
            "mixed": [self.contact] * 5 + [self.answer] * 4 + [self.panel_import],
            "contacts": [self.contact],
            "screenings": [self.answer],
            "imports": [self.panel_import],
        }[mode]
        emit("READY", mode)
        while count is None or self.n < count:
            self.n += 1
            self.rng.choice(kinds)()
        emit("DONE", self.n)


def main(argv: list[str]) -> None:
    db, mode, seed = Path(argv[1]), argv[2], int(argv[3])
    if mode == "setup":
        setup(db)
        return
    count = int(argv[4]) if len(argv) > 4 else None
    index, _, of = (argv[5] if len(argv) > 5 else "0/1").partition("/")
    store = open_store(f"sqlite:///{db}", create=False)
    Driver(store, db, seed, (int(index), int(of))).run(mode, count)


if __name__ == "__main__":
    main(sys.argv)

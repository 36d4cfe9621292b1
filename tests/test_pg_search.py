"""Name search finds the same clients on SQLite (FTS5) and PostgreSQL (pg_trgm regex):
every typed word starts a word of a client's names, preferred name, MRN or phone.

The expected answer comes from a small Python oracle, so each engine is checked on its
own (``any_store``) and, with PostgreSQL configured, the two are compared directly.
Both fold accents (``olafs`` finds Ólafsdóttir, ``núñ`` finds Nunez): FTS5 by its
tokenizer, PostgreSQL by ``translate()`` (migration 0008).
"""

from __future__ import annotations

import importlib
import random
import re
import unicodedata
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from cm_tui.store import queries as q
from cm_tui.store.db import Store, StoreError, open_store
from cm_tui.store.models import Client
from tests.conftest import PG_URL

GIVEN = ["Mary Ann", "Jo", "José Luis", "Ann-Marie", "Li", "Sam", "Garth", "Gary", "Ga", "Bo"]
GIVEN += ["Adán", "ÉLODIE", "Zoë", "Jose"]
FAMILY = [
    "O'Brien",
    "Smith-Jones",
    "de la Cruz",
    "McDonald",
    "Garcia",
    "Garza",
    "Van Der Berg",
    "Nguyen",
    "Obrien",
    "St. John",
    "Young",
    "Al-Amin",
    "Ólafsdóttir",
    "Núñez",
    "Nunez",
    "Müller-Schön",
]
PREFERRED = [None, None, None, "Bea", "Jojo", "Gus", "Mac"]
PHONES = ["(360) 541-4473", "555-0101", "+1 971 995 4261", "503.691.2804", None]

QUERIES = [
    "o'brien",
    "brien",
    "OBRIEN",
    "obr",
    "smith-jo",
    "jones",
    "jo",
    "j",
    "ga",
    "gar",
    "garc",
    "gary garza",
    "garza gary",
    "mary ann",
    "ann",
    "de la",
    "la cruz",
    "van der berg",
    "st john",
    "al amin",
    "amin",
    "jojo",
    "mac",
    "mrn0012",
    "mrn001",
    "a-77",
    "77",
    "4473",
    "541 44",
    "971",
    "2804",
    "0101 555",
    "zzq",
    "rien",  # inside a word, not at its start: no match
    "onald",
    "   ",
    # Accents fold both ways.
    "olafs",
    "ólafsd",
    "dottir",  # inside a word: no match
    "nunez",
    "núñ",
    "jose",
    "josé l",
    "adan",
    "ADÁN",
    "elodie",
    "élo",
    "zoe",
    "muller",
    "müller schon",
]


def client_rows(n: int, seed: int = 7) -> list[dict[str, str | None]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append(
            {
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "preferred_name": rng.choice(PREFERRED),
                "mrn": f"MRN{i:04d}" if i % 5 else f"A-{i:05d}",
                "phone": rng.choice(PHONES),
            }
        )
    return rows


def seed_clients(store: Store, n: int, seed: int = 7) -> None:
    with store.write() as s:
        s.add_all(Client(**row) for row in client_rows(n, seed))


_WORD = re.compile(r"[^\W_]+")


def plain(word: str) -> str:
    """Lower-cased, accents off (decomposed, combining marks dropped)."""
    return "".join(
        c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c)
    )


def oracle(rows: list[dict[str, str | None]], query: str) -> set[str]:
    """MRNs of the clients where every query word starts a word of a searched field,
    accents aside."""
    tokens = [plain(t) for t in q.search_tokens(query)]
    if not tokens:
        return set()
    found = set()
    for row in rows:
        words = [
            plain(w)
            for field in ("given_name", "family_name", "preferred_name", "mrn", "phone")
            for w in _WORD.findall(row[field] or "")
        ]
        if all(any(w.startswith(t) for w in words) for t in tokens):
            found.add(str(row["mrn"]))
    return found


def search(store: Store, query: str) -> set[str]:
    with store.read() as s:
        clause = q.name_search_clause(s, query)
        if clause is None:
            return set()
        return set(s.exec(select(col(Client.mrn)).where(clause)).all())  # type: ignore[arg-type]


def test_search_matches_word_starts_on_every_engine(any_store: Store) -> None:
    rows = client_rows(600)
    seed_clients(any_store, 600)
    for query in QUERIES:
        expected = oracle(rows, query)
        assert search(any_store, query) == expected, query
    # The oracle is not vacuous: most queries find someone, and some find no one.
    assert sum(bool(oracle(rows, query)) for query in QUERIES) >= len(QUERIES) - 7
    assert not oracle(rows, "rien") and oracle(rows, "brien")
    assert oracle(rows, "adan") == oracle(rows, "ADÁN") and oracle(rows, "nunez")


def test_postgresql_finds_what_sqlite_finds(sqlite_store: Store, pg_url: str) -> None:
    pg = open_store(pg_url)
    try:
        for store in (sqlite_store, pg):
            seed_clients(store, 2000, seed=11)
        for query in QUERIES:
            assert search(pg, query) == search(sqlite_store, query), query
    finally:
        pg.close()


def test_the_fold_is_the_one_the_index_was_built_with() -> None:
    """The planner uses the trigram index only for the expression it was built on."""
    fold = importlib.import_module("cm_tui.store.migrations.versions.0008_pg_search_fold")
    assert (fold.FOLD_FROM, fold.FOLD_TO) == (q.FOLD_FROM, q.FOLD_TO)
    assert len(q.FOLD_FROM) == len(q.FOLD_TO) == len(set(q.FOLD_FROM))
    for accented, letter in zip(q.FOLD_FROM, q.FOLD_TO, strict=True):
        assert plain(accented) == letter, accented


def test_migration_builds_the_trigram_index_and_drops_the_unused_ones(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        with store.engine.connect() as conn:
            defs = dict(
                conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = 'clients' AND schemaname = current_schema()"
                    )
                ).all()
            )
    finally:
        store.close()
    assert "ix_clients_lower_family" not in defs and "ix_clients_lower_given" not in defs
    trgm = defs["ix_clients_lower_search_trgm"]
    assert "USING gin" in trgm and "gin_trgm_ops" in trgm


@pytest.fixture
def fresh_database_as_plain_role() -> Iterator[str]:
    """A new database owned by postgres, and a URL for a role that may create tables in
    its public schema but may not install extensions (no CREATE on the database)."""
    if not PG_URL:
        pytest.skip("CM_TUI_TEST_DATABASE_URL not set")
    suffix = uuid.uuid4().hex[:10]
    name, role = f"cm_t_{suffix}", f"cm_r_{suffix}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_admin = create_engine(make_url(PG_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with db_admin.connect() as conn:
        conn.execute(text(f'GRANT CREATE ON SCHEMA public TO "{role}"'))
    db_admin.dispose()
    try:
        url = make_url(PG_URL).set(database=name, username=role, password=None)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_a_role_that_may_not_install_pg_trgm_is_told_what_to_ask_for(
    fresh_database_as_plain_role: str,
) -> None:
    with pytest.raises(StoreError) as failure:
        open_store(fresh_database_as_plain_role)
    message = str(failure.value)
    assert "pg_trgm" in message and "CREATE EXTENSION pg_trgm;" in message
    assert "cm-tui db upgrade" in message
    assert "Nothing was changed" in message
    admin = create_engine(
        make_url(PG_URL or "").set(database=make_url(fresh_database_as_plain_role).database)
    )
    try:
        with admin.connect() as conn:  # the whole upgrade rolled back: no half schema
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
    finally:
        admin.dispose()
    assert tables == 0

"""Command palette: find any client you may open, by name, MRN or phone."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider

from cm_tui.store import queries
from cm_tui.widgets.safe import literal, plain


class ClientCommands(Provider):
    async def search(self, query: str) -> Hits:
        app = self.app
        viewer = getattr(app, "viewer", None)
        if viewer is None or getattr(app, "locked", False) or len(query.strip()) < 2:
            return

        def find() -> list[tuple[int, str]]:
            with app.store.read() as session:
                found = queries.find_clients(session, viewer, query, limit=12)
            return [
                (
                    c.id or 0,
                    f"{c.family_name}, {c.given_name}"
                    + (f" · {c.dob:%Y-%m-%d}" if c.dob else "")
                    + (f" · MRN {c.mrn}" if c.mrn else ""),
                )
                for c in found
            ]

        for rank, (client_id, text) in enumerate(await asyncio.to_thread(find)):
            yield Hit(
                1.0 - rank / 100,
                literal(f"Open client: {text}"),
                partial(self._open, client_id),
                text=f"Open client: {plain(text)}",
                help="Opens the record (the view is audited)",
            )

    def _open(self, client_id: int) -> None:
        from cm_tui.screens.client import open_client

        open_client(self.app, client_id)

"""Command palette: log a contact or an inbound call with any client you may open."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider

from cm_tui.store import queries
from cm_tui.widgets.safe import literal, plain


class ContactCommands(Provider):
    def _ready(self) -> bool:
        app = self.app
        return getattr(app, "viewer", None) is not None and not getattr(app, "locked", False)

    async def search(self, query: str) -> Hits:
        # "Log inbound call" by name is a system command (app.get_system_commands).
        if not self._ready():
            return
        if len(query.strip()) < 2:
            return
        app, viewer = self.app, self.app.viewer  # type: ignore[attr-defined]

        def find() -> list[tuple[int, str]]:
            with app.store.read() as session:  # type: ignore[attr-defined]
                found = queries.find_clients(session, viewer, query, limit=8)
            return [
                (
                    c.id or 0,
                    f"{c.family_name}, {c.given_name}" + (f" · MRN {c.mrn}" if c.mrn else ""),
                )
                for c in found
            ]

        for rank, (client_id, text) in enumerate(await asyncio.to_thread(find)):
            yield Hit(
                0.9 - rank / 100,
                literal(f"Log contact: {text}"),
                partial(self._log, client_id, "outbound"),
                text=f"Log contact: {plain(text)}",
                help="Log a call or visit with this client",
            )
            yield Hit(
                0.85 - rank / 100,
                literal(f"Log inbound call: {text}"),
                partial(self._log, client_id, "inbound"),
                text=f"Log inbound call: {plain(text)}",
                help="They called: log it, and promise a callback if you need to",
            )

    def _log(self, client_id: int, direction: str) -> None:
        from cm_tui.screens.contact_form import open_contact_form

        open_contact_form(self.app.screen, client_id, direction=direction)

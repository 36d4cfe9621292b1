"""change feed for live refresh (filled in by the team-mode work)

Revision ID: 0005_change_feed
Revises: 0004_pg_name_search
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

revision = '0005_change_feed'
down_revision = '0004_pg_name_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""PostgreSQL name search on a pg_trgm index (filled in by the team-mode work)

Revision ID: 0004_pg_name_search
Revises: 0003_followup_indexes
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

revision = '0004_pg_name_search'
down_revision = '0003_followup_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""care plans, programmes and outreach cadence (filled in by the care-plan work)

Revision ID: 0006_care_plans
Revises: 0005_change_feed
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

revision = '0006_care_plans'
down_revision = '0005_change_feed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""caseload indexes: every sort and count of the caseload straight off an index

Revision ID: 0002_caseload_indexes
Revises: 0001_baseline
Create Date: 2026-11-25 13:05:00

(scope, status, sort key..., id) indexes for the caseload of a care manager,
a CHW and a supervisor's whole-organisation view, so that queries.caseload_page
reads a window without sorting the caseload and caseload_count is covered; an
index on program for the programme filter menu. The two (care_manager_id, x)
indexes of the baseline are superseded and dropped.
"""

from __future__ import annotations

from alembic import op

revision = '0002_caseload_indexes'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None

NEW = {
    "ix_clients_cm_status_name": ["care_manager_id", "status", "family_name", "given_name", "id"],
    "ix_clients_cm_status_risk": [
        "care_manager_id", "status", "risk_tier", "family_name", "given_name", "id"
    ],
    "ix_clients_cm_status_last": ["care_manager_id", "status", "last_contact_at", "id"],
    "ix_clients_cm_status_dob": ["care_manager_id", "status", "dob", "id"],
    "ix_clients_chw_status_name": ["chw_id", "status", "family_name", "given_name", "id"],
    "ix_clients_status_name": ["status", "family_name", "given_name", "id"],
    "ix_clients_status_risk": ["status", "risk_tier", "family_name", "given_name", "id"],
    "ix_clients_status_last": ["status", "last_contact_at", "id"],
    "ix_clients_status_dob": ["status", "dob", "id"],
    "ix_clients_program": ["program"],
}
OLD = {
    "ix_clients_cm_last_contact": ["care_manager_id", "last_contact_at"],
    "ix_clients_cm_risk": ["care_manager_id", "risk_tier"],
}


def upgrade() -> None:
    for name in OLD:
        op.drop_index(name, table_name="clients")
    for name, columns in NEW.items():
        op.create_index(name, "clients", columns, unique=False)


def downgrade() -> None:
    for name in NEW:
        op.drop_index(name, table_name="clients")
    for name, columns in OLD.items():
        op.create_index(name, "clients", columns, unique=False)

"""follow-up queue and team view indexes

Revision ID: 0003_followup_indexes
Revises: 0002_caseload_indexes
Create Date: 2026-11-25 13:20:00

The follow-up queue reads every window straight off an index, sorted by
priority then due: (assignee, status, priority, due_at, id) for one person's
queue, (status, priority, due_at, id) for the whole team; the done tab
(newest first) off (assignee, status, completed_at, id) and (status,
completed_at, id). The team view's "oldest unreturned callback" is a seek on
(assignee, status, kind, created_at), its open needs a range on (status,
client_id), and its contact figures (count, reach, minutes, contacts per day)
a covering range of (user_id, occurred_at, outcome, party, duration_min),
which supersedes the baseline's (user_id, occurred_at).
"""

from __future__ import annotations

from alembic import op

revision = '0003_followup_indexes'
down_revision = '0002_caseload_indexes'
branch_labels = None
depends_on = None

NEW = {
    "follow_ups": {
        "ix_followups_assignee_open_queue": ["assignee_id", "status", "priority", "due_at", "id"],
        "ix_followups_open_queue": ["status", "priority", "due_at", "id"],
        "ix_followups_assignee_done": ["assignee_id", "status", "completed_at", "id"],
        "ix_followups_done": ["status", "completed_at", "id"],
        "ix_followups_assignee_kind_created": ["assignee_id", "status", "kind", "created_at"],
    },
    "needs": {"ix_needs_status_client": ["status", "client_id"]},
    "contacts": {
        "ix_contacts_user_at_outcome": [
            "user_id", "occurred_at", "outcome", "party", "duration_min"
        ],
    },
}
OLD = {"contacts": {"ix_contacts_user_at": ["user_id", "occurred_at"]}}


def upgrade() -> None:
    for table, indexes in OLD.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
    for table, indexes in NEW.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, indexes in NEW.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
    for table, indexes in OLD.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)

"""care plans, programmes and outreach cadence

Revision ID: 0006_care_plans
Revises: 0005_change_feed
Create Date: 2026-11-25 15:30:00

The baseline created bare care_plans / goals / interventions / barriers /
program_enrollments tables; this fills them out (issue #13):

* care_plans: ``status`` (active / superseded / closed) replaces the ``active``
  flag, history is kept, and a partial unique index allows one active plan per
  client; (client_id, created_at, id) serves the plan history.
* goals: order (``position``), revision link, author, updated/closed times,
  version; (care_plan_id, position, id) serves the panel.
* goal_progress (new): dated progress notes, (goal_id, at, id).
* interventions: updated_at; (goal_id, id) and (follow_up_id).
* barriers: status and resolved_at.
* contact_goals (new): contacts tagged with goals, (goal_id, contact_id).
* contacts: ``service_type`` (nullable).
* program_enrollments: TCM discharge date and complexity, author, and the
  outreach cadence state; (outreach_status, unable_to_reach_at, id) serves the
  supervisor's unable-to-reach list.

Independent of 0004/0005 (it touches none of their objects).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_care_plans'
down_revision = '0005_change_feed'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ONE_ACTIVE_WHERE = sa.text("status = 'active'")


def upgrade() -> None:
    # --- care_plans
    with op.batch_alter_table('care_plans', schema=None) as b:
        b.add_column(sa.Column('status', sa.String(), nullable=False, server_default='active'))
        b.add_column(sa.Column('updated_at', TS, nullable=True))
        b.add_column(sa.Column('closed_at', TS, nullable=True))
        b.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        b.create_foreign_key('fk_care_plans_supersedes', 'care_plans', ['supersedes_id'], ['id'])
    op.execute(
        "UPDATE care_plans SET updated_at = created_at, "
        "status = CASE WHEN active THEN 'active' ELSE 'superseded' END"
    )
    with op.batch_alter_table('care_plans', schema=None) as b:
        b.alter_column('updated_at', existing_type=TS, nullable=False)
        b.drop_column('active')
        b.drop_index('ix_care_plans_client_id')
        b.create_index('ix_care_plans_client_created', ['client_id', 'created_at', 'id'])
    op.create_index(
        'ux_care_plans_one_active',
        'care_plans',
        ['client_id'],
        unique=True,
        sqlite_where=ONE_ACTIVE_WHERE,
        postgresql_where=ONE_ACTIVE_WHERE,
    )

    # --- goals
    with op.batch_alter_table('goals', schema=None) as b:
        b.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))
        b.add_column(sa.Column('revised_from_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('updated_at', TS, nullable=True))
        b.add_column(sa.Column('closed_at', TS, nullable=True))
        b.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        b.create_foreign_key('fk_goals_revised_from', 'goals', ['revised_from_id'], ['id'])
        b.create_foreign_key('fk_goals_created_by', 'users', ['created_by_id'], ['id'])
    op.execute("UPDATE goals SET updated_at = created_at, position = id")
    with op.batch_alter_table('goals', schema=None) as b:
        b.alter_column('updated_at', existing_type=TS, nullable=False)
        b.drop_index('ix_goals_care_plan_id')
        b.create_index('ix_goals_plan_position', ['care_plan_id', 'position', 'id'])

    op.create_table(
        'goal_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('goal_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', TS, nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['goal_id'], ['goals.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_goal_progress_goal_at', 'goal_progress', ['goal_id', 'at', 'id'])

    # --- interventions
    with op.batch_alter_table('interventions', schema=None) as b:
        b.add_column(sa.Column('updated_at', TS, nullable=True))
    op.execute("UPDATE interventions SET updated_at = created_at")
    with op.batch_alter_table('interventions', schema=None) as b:
        b.alter_column('updated_at', existing_type=TS, nullable=False)
        b.create_index('ix_interventions_goal', ['goal_id', 'id'])
        b.create_index('ix_interventions_follow_up', ['follow_up_id'])

    # --- barriers
    with op.batch_alter_table('barriers', schema=None) as b:
        b.add_column(sa.Column('status', sa.String(), nullable=False, server_default='open'))
        b.add_column(sa.Column('resolved_at', TS, nullable=True))

    # --- contact_goals, contacts.service_type
    op.create_table(
        'contact_goals',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('goal_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id']),
        sa.ForeignKeyConstraint(['goal_id'], ['goals.id']),
        sa.PrimaryKeyConstraint('contact_id', 'goal_id'),
    )
    op.create_index('ix_contact_goals_goal', 'contact_goals', ['goal_id', 'contact_id'])
    op.add_column('contacts', sa.Column('service_type', sa.String(), nullable=True))

    # --- program_enrollments
    with op.batch_alter_table('program_enrollments', schema=None) as b:
        b.add_column(sa.Column('discharge_on', sa.Date(), nullable=True))
        b.add_column(sa.Column('complexity', sa.String(), nullable=True))
        b.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('created_at', TS, nullable=True))
        b.add_column(sa.Column('outreach_status', sa.String(), nullable=True))
        b.add_column(sa.Column('outreach_started_on', sa.Date(), nullable=True))
        b.add_column(
            sa.Column('outreach_attempts', sa.Integer(), nullable=False, server_default='0')
        )
        b.add_column(sa.Column('outreach_next_at', TS, nullable=True))
        b.add_column(sa.Column('outreach_followup_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('unable_to_reach_at', TS, nullable=True))
        b.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('reviewed_at', TS, nullable=True))
        b.add_column(sa.Column('review_note', sa.Text(), nullable=True))
        b.create_foreign_key('fk_enrollments_created_by', 'users', ['created_by_id'], ['id'])
        b.create_foreign_key(
            'fk_enrollments_outreach_followup', 'follow_ups', ['outreach_followup_id'], ['id']
        )
        b.create_foreign_key('fk_enrollments_reviewed_by', 'users', ['reviewed_by_id'], ['id'])
        b.create_index(
            'ix_enrollments_outreach', ['outreach_status', 'unable_to_reach_at', 'id']
        )


def downgrade() -> None:
    with op.batch_alter_table('program_enrollments', schema=None) as b:
        b.drop_index('ix_enrollments_outreach')
        b.drop_constraint('fk_enrollments_reviewed_by', type_='foreignkey')
        b.drop_constraint('fk_enrollments_outreach_followup', type_='foreignkey')
        b.drop_constraint('fk_enrollments_created_by', type_='foreignkey')
        for name in (
            'review_note', 'reviewed_at', 'reviewed_by_id', 'unable_to_reach_at',
            'outreach_followup_id', 'outreach_next_at', 'outreach_attempts',
            'outreach_started_on', 'outreach_status', 'created_at', 'created_by_id',
            'complexity', 'discharge_on',
        ):
            b.drop_column(name)

    with op.batch_alter_table('contacts', schema=None) as b:
        b.drop_column('service_type')
    op.drop_index('ix_contact_goals_goal', table_name='contact_goals')
    op.drop_table('contact_goals')

    with op.batch_alter_table('barriers', schema=None) as b:
        b.drop_column('resolved_at')
        b.drop_column('status')

    with op.batch_alter_table('interventions', schema=None) as b:
        b.drop_index('ix_interventions_follow_up')
        b.drop_index('ix_interventions_goal')
        b.drop_column('updated_at')

    op.drop_index('ix_goal_progress_goal_at', table_name='goal_progress')
    op.drop_table('goal_progress')

    with op.batch_alter_table('goals', schema=None) as b:
        b.drop_index('ix_goals_plan_position')
        b.create_index('ix_goals_care_plan_id', ['care_plan_id'])
        b.drop_constraint('fk_goals_created_by', type_='foreignkey')
        b.drop_constraint('fk_goals_revised_from', type_='foreignkey')
        for name in ('version', 'closed_at', 'updated_at', 'created_by_id', 'revised_from_id',
                     'position'):
            b.drop_column(name)

    op.drop_index('ux_care_plans_one_active', table_name='care_plans')
    with op.batch_alter_table('care_plans', schema=None) as b:
        b.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE care_plans SET active = (status = 'active')")
    with op.batch_alter_table('care_plans', schema=None) as b:
        b.drop_index('ix_care_plans_client_created')
        b.create_index('ix_care_plans_client_id', ['client_id'])
        b.drop_constraint('fk_care_plans_supersedes', type_='foreignkey')
        for name in ('version', 'supersedes_id', 'closed_at', 'updated_at', 'status'):
            b.drop_column(name)

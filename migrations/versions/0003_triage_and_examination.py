"""triage and examination

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:21:36.536218
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('declaration_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('replaced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('declaration_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_version_registration_id'), ['registration_id'], unique=False)

    op.create_table('determination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('prior_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('limitation', sa.Text(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['examiner_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('determination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_determination_registration_id'), ['registration_id'], unique=False)

    op.create_table('letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_registration_id'), ['registration_id'], unique=False)

    op.create_table('match_disposition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('match_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['examiner_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('match_disposition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_disposition_registration_id'), ['registration_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('risk_points', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('risk_reasons', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('fast_track_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('triaged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('examiner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('supplements_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_registration_supplements_id'), ['supplements_id'], unique=False)
        batch_op.create_foreign_key(
            'fk_registration_supplements_id_registration', 'registration', ['supplements_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_registration_examiner_id'), ['examiner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_risk_tier'), ['risk_tier'], unique=False)
        batch_op.create_foreign_key(
            'fk_registration_examiner_id_user_account', 'user_account', ['examiner_id'], ['id']
        )



def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint('fk_registration_supplements_id_registration', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_registration_supplements_id'))
        batch_op.drop_column('supplements_id')
        batch_op.drop_constraint('fk_registration_examiner_id_user_account', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_registration_risk_tier'))
        batch_op.drop_index(batch_op.f('ix_registration_examiner_id'))
        batch_op.drop_column('examiner_id')
        batch_op.drop_column('triaged_at')
        batch_op.drop_column('fast_track_on')
        batch_op.drop_column('route')
        batch_op.drop_column('risk_reasons')
        batch_op.drop_column('risk_points')
        batch_op.drop_column('risk_tier')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))

    op.drop_table('notification')
    with op.batch_alter_table('match_disposition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_disposition_registration_id'))

    op.drop_table('match_disposition')
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_registration_id'))

    op.drop_table('letter')
    with op.batch_alter_table('determination', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_determination_registration_id'))

    op.drop_table('determination')
    with op.batch_alter_table('declaration_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_version_registration_id'))

    op.drop_table('declaration_version')

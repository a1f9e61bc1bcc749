"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deposit',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('char_count', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('number_sequence',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_email'), ['email'], unique=True)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('work_category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('completion_date', sa.Date(), nullable=True),
    sa.Column('publication_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('publication_date', sa.Date(), nullable=True),
    sa.Column('publication_nation', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('claimant_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('claimant_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('claimant_address', sa.Text(), nullable=False),
    sa.Column('rights_obtained', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('transfer_statement', sa.Text(), nullable=False),
    sa.Column('rights_held', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('rights_held_detail', sa.Text(), nullable=False),
    sa.Column('digital_source_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ai_material', sa.Text(), nullable=False),
    sa.Column('new_material', sa.Text(), nullable=False),
    sa.Column('training_use', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('training_terms', sa.Text(), nullable=False),
    sa.Column('deposit_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('attested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['deposit_sha256'], ['deposit.sha256'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_deposit_sha256'), ['deposit_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_registration_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_uid'), ['uid'], unique=True)

    op.create_table('ai_tool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('usage', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ai_tool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_tool_registration_id'), ['registration_id'], unique=False)

    op.create_table('alternative_title',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alternative_title', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alternative_title_registration_id'), ['registration_id'], unique=False)

    op.create_table('author',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('signing', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('citizenship', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('contribution', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_author_registration_id'), ['registration_id'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_registration_id'), ['registration_id'], unique=False)

    op.create_table('human_contribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id', 'category')
    )
    with op.batch_alter_table('human_contribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_human_contribution_registration_id'), ['registration_id'], unique=False)

    op.create_table('input_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('licence', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('input_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_input_source_registration_id'), ['registration_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('input_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_input_source_registration_id'))

    op.drop_table('input_source')
    with op.batch_alter_table('human_contribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_contribution_registration_id'))

    op.drop_table('human_contribution')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_registration_id'))

    op.drop_table('event')
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_author_registration_id'))

    op.drop_table('author')
    with op.batch_alter_table('alternative_title', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alternative_title_registration_id'))

    op.drop_table('alternative_title')
    with op.batch_alter_table('ai_tool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_tool_registration_id'))

    op.drop_table('ai_tool')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_uid'))
        batch_op.drop_index(batch_op.f('ix_registration_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_registration_status'))
        batch_op.drop_index(batch_op.f('ix_registration_owner_id'))
        batch_op.drop_index(batch_op.f('ix_registration_number'))
        batch_op.drop_index(batch_op.f('ix_registration_deposit_sha256'))

    op.drop_table('registration')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_email'))

    op.drop_table('user_account')
    op.drop_table('number_sequence')
    op.drop_table('deposit')

"""Ticket relations: typed links between tickets, and where a merged reply came from.

Revision ID: 0017_ticket_relations
Revises: 0016_saved_views
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flask_escalated.models.base

revision: str = '0017_ticket_relations'
down_revision: str | None = '0016_saved_views'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
LINKS = 'escalated_ticket_links'
REPLIES = 'escalated_replies'
TICKETS = 'escalated_tickets'
REPLY_FK = 'fk_escalated_replies_merged_from_id_escalated_tickets'


def upgrade() -> None:
    op.create_table(LINKS,
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('linked_ticket_id', ID, nullable=False),
    sa.Column('link_type', sa.String(length=20), nullable=False),
    sa.Column('created_by_user_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], [TICKETS + '.id'],
                            name=op.f('fk_escalated_ticket_links_ticket_id_escalated_tickets'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_ticket_id'], [TICKETS + '.id'],
                            name=op.f('fk_escalated_ticket_links_linked_ticket_id_escalated_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_ticket_links')),
    sa.UniqueConstraint('ticket_id', 'linked_ticket_id',
                        name=op.f('uq_escalated_ticket_links_ticket_id_linked_ticket_id')),
    )
    op.create_index('ix_escalated_ticket_links_linked_ticket_id_ticket_id', LINKS,
                    ['linked_ticket_id', 'ticket_id'])
    with op.batch_alter_table(REPLIES) as batch:
        batch.add_column(sa.Column('merged_from_id', ID, nullable=True))
        batch.create_foreign_key(REPLY_FK, TICKETS, ['merged_from_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table(REPLIES) as batch:
        batch.drop_constraint(REPLY_FK, type_='foreignkey')
        batch.drop_column('merged_from_id')
    op.drop_table(LINKS)

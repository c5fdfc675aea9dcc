"""Knowledge base: categories, articles, helpfulness votes, pending page views, and the
full-text search structure of each database.

Revision ID: 0009_knowledge_base
Revises: 0008_long_text
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flask_escalated.models.base
from flask_escalated.models.kb import LEGACY_FTS_TABLE, LEGACY_SEARCH_DDL

revision: str = '0009_knowledge_base'
down_revision: str | None = '0008_long_text'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('escalated_kb_categories',
    sa.Column('id', ID, nullable=False),
    sa.Column('parent_id', ID, nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=140), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['escalated_kb_categories.id'], name=op.f('fk_escalated_kb_categories_parent_id_escalated_kb_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_kb_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_kb_categories_slug'))
    )
    with op.batch_alter_table('escalated_kb_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_kb_categories_parent_id'), ['parent_id'], unique=False)
    op.create_table('escalated_kb_articles',
    sa.Column('id', ID, nullable=False),
    sa.Column('category_id', ID, nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('helpful_count', sa.Integer(), nullable=False),
    sa.Column('not_helpful_count', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.String(length=64), nullable=True),
    sa.Column('published_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['escalated_kb_categories.id'], name=op.f('fk_escalated_kb_articles_category_id_escalated_kb_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_kb_articles')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_kb_articles_slug'))
    )
    with op.batch_alter_table('escalated_kb_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_kb_articles_status_visibility_id'), ['status', 'visibility', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_kb_articles_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_kb_articles_author_user_id'), ['author_user_id'], unique=False)
    op.create_table('escalated_kb_feedback',
    sa.Column('id', ID, nullable=False),
    sa.Column('article_id', ID, nullable=False),
    sa.Column('voter_hash', sa.String(length=64), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['escalated_kb_articles.id'], name=op.f('fk_escalated_kb_feedback_article_id_escalated_kb_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_kb_feedback')),
    sa.UniqueConstraint('article_id', 'voter_hash', name=op.f('uq_escalated_kb_feedback_article_id_voter_hash'))
    )
    op.create_table('escalated_kb_pending_views',
    sa.Column('id', ID, nullable=False),
    sa.Column('article_id', ID, nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_kb_pending_views'))
    )
    # Full-text search: a GIN expression index, FULLTEXT indexes or an FTS5 table.
    for statement in LEGACY_SEARCH_DDL.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'DROP TABLE IF EXISTS {LEGACY_FTS_TABLE}')
    op.drop_table('escalated_kb_pending_views')
    op.drop_table('escalated_kb_feedback')
    op.drop_table('escalated_kb_articles')
    op.drop_table('escalated_kb_categories')

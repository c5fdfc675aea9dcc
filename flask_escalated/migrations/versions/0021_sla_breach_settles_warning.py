"""A recorded breach settles its target's warning: ``<target>_warned_at`` is set wherever the
breach was recorded without a warning before it.

The SLA sweep now stamps both on a breach, so its warning index holds only warnings still to
record; rows breached before this change would otherwise stay in that index's pending range
and be walked past by every sweep. Data only; the downgrade keeps the stamps (the older sweep
reads them the same way: no warning after a breach).

Revision ID: 0021_sla_breach_settles_warning
Revises: 0020_kb_search_vector
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_sla_breach_settles_warning"
down_revision: str | None = "0020_kb_search_vector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TARGETS = ("first_response", "next_response", "resolution")


def upgrade() -> None:
    tickets = sa.table(
        "escalated_tickets",
        *(
            sa.column(f"{target}_{suffix}")
            for target in TARGETS
            for suffix in ("warned_at", "breached_at")
        ),
    )
    for target in TARGETS:
        warned, breached = tickets.c[f"{target}_warned_at"], tickets.c[f"{target}_breached_at"]
        op.execute(
            tickets.update()
            .where(warned.is_(None), breached.is_not(None))
            .values({warned.key: breached})
        )


def downgrade() -> None:
    pass

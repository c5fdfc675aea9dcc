"""Article view counts without a database write per page view.

Three stages, each cheaper than a write per view:

1. **Count in memory.** :func:`count_view` adds one to a per-process, per-app counter
   (:class:`ViewBuffer`, a ``Counter`` behind a lock). Nothing touches the database.
2. **Spill in batches.** When the buffer holds :data:`SPILL_VIEWS` views or is older than
   :data:`SPILL_SECONDS`, the request that notices writes it out as *one* multi-row insert into
   ``escalated_kb_pending_views`` (one row per article seen), in a short transaction of its own
   so it never joins, delays or rolls back with the page's unit of work. A busy article costs
   one row per spill, not one per view, and readers never lock the article row.
3. **Fold.** The ``flush_kb_views`` job (every minute, also ``flask escalated flush-kb-views``)
   first spills its own process's buffer, then, a batch at a time, sums the pending rows per
   article, adds the sums to ``KbArticle.view_count`` with ``view_count = view_count + n`` and
   deletes exactly the rows it summed — in one transaction, so a crash folds everything or
   nothing and a concurrent spill is never lost. Rows for deleted articles are dropped.

Trade-off: views still in a process's memory when it dies are lost (at most
:data:`SPILL_SECONDS` worth per process); counts are approximate by design, and
``view_count`` lags by up to a spill interval plus a job interval. No Redis is needed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import cast

from sqlalchemy import Engine, delete, insert, select, update

from ..clock import now
from ..models import KbArticle, KbPendingView
from . import ext, session

SPILL_VIEWS = 200
SPILL_SECONDS = 30.0
_EXTRA_KEY = "kb_view_buffer"


class ViewBuffer:
    """Views counted in this process and not yet written."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[int] = Counter()
        self._clock = clock
        self._since = clock()

    def add(self, article_id: int) -> bool:
        """Count one view; returns whether the buffer is due to be spilled."""
        with self._lock:
            if not self._counts:
                self._since = self._clock()
            self._counts[article_id] += 1
            return (sum(self._counts.values()) >= SPILL_VIEWS
                    or self._clock() - self._since >= SPILL_SECONDS)

    def take(self) -> dict[int, int]:
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
            return counts

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def buffer() -> ViewBuffer:
    extras = ext().state.extras
    found = extras.get(_EXTRA_KEY)
    if found is None:
        found = extras.setdefault(_EXTRA_KEY, ViewBuffer())
    return cast(ViewBuffer, found)


def count_view(article_id: int) -> None:
    """One page view of ``article_id``: counted in memory, spilled when due."""
    if buffer().add(article_id):
        spill()


def spill(*, in_session: bool = False) -> int:
    """Write this process's buffered views as pending rows; returns the views written.

    From a page: in a short transaction of its own (never part of the page's unit of work).
    ``in_session`` (the fold job and the CLI): in the caller's unit of work instead, which then
    commits, so the folds that follow start from a snapshot that includes these rows.
    """
    counts = buffer().take()
    if not counts:
        return 0
    stamp = now()
    rows = [{"article_id": aid, "views": n, "created_at": stamp}
            for aid, n in sorted(counts.items())]
    if in_session:
        session().execute(insert(KbPendingView), rows)
    else:
        engine = cast(Engine, session().get_bind())
        with engine.begin() as conn:
            conn.execute(insert(KbPendingView), rows)
    return sum(counts.values())


def fold_batch(limit: int = 1000) -> int:
    """Add up to ``limit`` pending rows to their articles' ``view_count`` and delete them;
    returns the rows folded (0: nothing left). Runs in the caller's unit of work."""
    db = session()
    rows = db.execute(select(KbPendingView.id, KbPendingView.article_id, KbPendingView.views)
                      .order_by(KbPendingView.id).limit(limit)).all()
    if not rows:
        return 0
    sums: Counter[int] = Counter()
    for _id, article_id, views in rows:
        sums[article_id] += views
    for article_id, views in sorted(sums.items()):
        db.execute(update(KbArticle).where(KbArticle.id == article_id)
                   .values(view_count=KbArticle.view_count + views)
                   .execution_options(synchronize_session=False))
    db.execute(delete(KbPendingView).where(KbPendingView.id.in_([r[0] for r in rows]))
               .execution_options(synchronize_session=False))
    return len(rows)

"""The unit of work around an API write: commit, then dispatch domain events."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ...services import ext, plain_session


@contextlib.contextmanager
def committed(*, keep_loaded: bool = False) -> Iterator[None]:
    """Commit the block. ``keep_loaded`` leaves the objects' attributes as written instead of
    expiring them, for a response built from what the block wrote: no reload of each row."""
    db = plain_session()
    before = db.expire_on_commit
    if keep_loaded:
        db.expire_on_commit = False
    try:
        with ext().unit_of_work():
            yield
    finally:
        db.expire_on_commit = before

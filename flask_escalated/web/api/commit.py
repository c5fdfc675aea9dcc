"""The unit of work around an API write: commit, then dispatch domain events."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ...services import ext


@contextlib.contextmanager
def committed() -> Iterator[None]:
    with ext().unit_of_work():
        yield

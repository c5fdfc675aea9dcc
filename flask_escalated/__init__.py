"""flask-escalated: an embeddable helpdesk for Flask.

``Escalated(app, db=db)`` mounts the helpdesk under ``/support``: tickets with a configurable
lifecycle, a JSON API, blinker signals sent after commit, ``flask escalated`` commands and
shipped migrations.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import signals
from .clock import FrozenClock, frozen, set_clock
from .events import Actor
from .extension import Escalated, current_escalated

__all__ = [
    "Actor",
    "Escalated",
    "FrozenClock",
    "__version__",
    "current_escalated",
    "frozen",
    "set_clock",
    "signals",
]

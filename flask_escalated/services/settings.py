"""The run-time settings store. Values here override the app config."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..models import Setting
from . import session

_MISSING = object()


def get(key: str, default: Any = None) -> Any:
    row = session().execute(select(Setting.value).where(Setting.key == key)).first()
    return default if row is None else row[0]


def set_value(key: str, value: Any) -> Any:
    """Store ``value`` under ``key``; returns the previous value (``None`` if unset)."""
    row = session().execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
    if row is None:
        session().add(Setting(key=key, value=value))
        return None
    old = row.value
    row.value = value
    return old


def delete(key: str) -> None:
    row = session().execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
    if row is not None:
        session().delete(row)

"""Attachment storage behind a small interface, with a local-disk default.

A host can plug in another backend (S3, ...) by giving ``ESCALATED_ATTACHMENT_STORAGE`` an
object with ``save``, ``open`` and ``delete``. Files written inside a transaction that rolls
back are removed; files of deleted rows are removed only after the delete commits.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from typing import IO, Any, Protocol

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..clock import now
from .errors import StorageFull, StorageUnavailable

log = logging.getLogger("flask_escalated.storage")

_WRITTEN = "escalated.files_written"
_DOOMED = "escalated.files_doomed"


class AttachmentStorage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> IO[bytes]: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under a folder, two levels of year/month, random names (never user input)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        path = os.path.abspath(os.path.join(self.root, key))
        if not path.startswith(self.root + os.sep):
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as fh:
            fh.write(data)

    def open(self, key: str) -> IO[bytes]:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(key))


def get_storage() -> AttachmentStorage:
    state = current_app.extensions["escalated"].state
    storage = state.extras.get("storage")
    if storage is None:
        configured: Any = current_app.config["ESCALATED_ATTACHMENT_STORAGE"]
        if configured is not None and not isinstance(configured, str):
            storage = configured
        else:
            storage = LocalStorage(state.attachment_root)
        state.extras["storage"] = storage
    return storage  # type: ignore[no-any-return]


def new_key() -> str:
    stamp = now()
    return f"{stamp:%Y/%m}/{secrets.token_hex(16)}"


def save(session: Session, data: bytes) -> str:
    """Write ``data`` and return its key; the file is removed again if the session rolls back."""
    key = new_key()
    storage = get_storage()
    try:
        storage.save(key, data)
    except OSError as exc:
        # A partly written file is removed; the caller's transaction rolls back, so the
        # ticket, reply or message that needed the file is not written either.
        with contextlib.suppress(Exception):
            storage.delete(key)
        log.error("attachment storage refused %d bytes: %s", len(data), exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull("There is no room left for files; nothing was saved. "
                              "Try again later.") from exc
        raise StorageUnavailable("Files cannot be stored right now; nothing was saved. "
                                 "Try again later.") from exc
    session.info.setdefault(_WRITTEN, []).append((storage, key))
    return key


def delete_after_commit(session: Session, key: str) -> None:
    session.info.setdefault(_DOOMED, []).append((get_storage(), key))


def install(session_factory: Any) -> None:
    if sa_event.contains(session_factory, "after_commit", _after_commit):
        return
    sa_event.listen(session_factory, "after_commit", _after_commit)
    sa_event.listen(session_factory, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit is later
        return
    session.info.pop(_WRITTEN, None)
    for storage, key in session.info.pop(_DOOMED, ()):
        storage.delete(key)


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back, not the transaction
        return
    session.info.pop(_DOOMED, None)
    for storage, key in session.info.pop(_WRITTEN, ()):
        storage.delete(key)

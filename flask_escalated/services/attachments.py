"""Attachments: limits, content-type sniffing, safe file names, permission-checked reads."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from flask import current_app
from sqlalchemy import func, select

from ..config import Config
from ..events import Actor
from ..models import Attachment, Reply, Ticket
from . import activity, session, storage
from .errors import NotFound, PayloadTooLarge, ValidationError

#: Types a browser would render or run; always served as downloads, never inline.
ACTIVE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "application/javascript",
     "text/javascript", "text/xml", "application/xml"}
)

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


@dataclass
class Upload:
    """A file as received at the edge: its claimed name and a readable stream."""

    filename: str
    stream: IO[bytes]


def safe_filename(name: str) -> str:
    """Strip paths, control and bidi/zero-width characters, trailing dots and spaces."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch) != "Cf"
    )
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190 - len(ext)] + dot + ext) if dot and len(ext) < 10 else name[:200]
    return name or "attachment"


def sniff(data: bytes) -> str:
    """The content type from the bytes themselves, never from the name or the client."""
    import filetype  # loaded with the first upload: a web process may never see one

    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<body")):
        return "text/html"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    if head.startswith(b"<?xml"):
        return "application/xml"
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def _read_limited(stream: IO[bytes], limit: int, filename: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"'{filename}' is larger than the {limit // 1024 // 1024 or limit} "
            f"{'MiB' if limit >= 1024 * 1024 else 'byte'} limit.",
            {"files": "too large"},
        )
    return data


def add(
    ticket: Ticket,
    uploads: Iterable[Upload],
    actor: Actor,
    *,
    reply: Reply | None = None,
    is_internal: bool = False,
) -> list[Attachment]:
    """Store files on ``ticket`` (and ``reply``) within the configured count and size limits."""
    uploads = list(uploads)
    if not uploads:
        return []
    max_count = int(current_app.config[Config.MAX_ATTACHMENTS])
    max_size = int(current_app.config[Config.MAX_ATTACHMENT_SIZE])
    db = session()
    if reply is not None:
        existing = 0
    else:
        existing = db.execute(
            select(func.count()).select_from(Attachment).where(
                Attachment.ticket_id == ticket.id, Attachment.reply_id.is_(None)
            )
        ).scalar_one()
    if existing + len(uploads) > max_count:
        raise ValidationError(
            f"At most {max_count} attachments are allowed here.", {"files": "too many"}
        )
    rows = []
    for upload in uploads:
        name = safe_filename(upload.filename or "")
        data = _read_limited(upload.stream, max_size, name)
        if not data:
            raise ValidationError(f"'{name}' is empty.", {"files": "empty file"})
        row = Attachment(
            ticket_id=ticket.id,
            reply_id=reply.id if reply is not None else None,
            filename=name,
            content_type=sniff(data),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=storage.save(db, data),
            uploaded_by_user_id=actor.user_id,
            uploaded_by_contact_id=actor.contact_id,
            is_internal=is_internal,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    for row in rows:
        activity.record(
            ticket, "attachment_added", actor, attachment_id=row.id, filename=row.filename,
            internal=is_internal,
        )
    return rows


def get(attachment_id: int) -> Attachment:
    row = session().get(Attachment, attachment_id)
    if row is None:
        raise NotFound("No such attachment.")
    return row


def open_file(row: Attachment) -> IO[bytes]:
    try:
        return storage.get_storage().open(row.storage_key)
    except FileNotFoundError as exc:
        raise NotFound("The attachment's file is missing from storage.") from exc


def list_for_ticket(ticket: Ticket, *, include_internal: bool) -> list[Attachment]:
    query = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    if not include_internal:
        query = query.where(Attachment.is_internal.is_(False))
    return list(session().execute(query).scalars())

"""Attachments: uploads are multipart, with the files in the field ``files``."""

from __future__ import annotations

from datetime import datetime

from ._base import Body, Out


class Upload(Body):
    """Multipart: one or more files in the field ``files`` (no other form fields)."""


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str | None
    size: int
    reply_id: int | None
    is_internal: bool
    created_at: datetime | None


class AttachmentList(Out):
    data: list[AttachmentOut]

"""Attachments: uploads are multipart, with the files in the field ``files``."""

from __future__ import annotations

from ._base import Body


class Upload(Body):
    """Multipart: one or more files in the field ``files`` (no other form fields)."""

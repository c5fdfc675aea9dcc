"""Sending a stored attachment to a browser, the same way from every blueprint.

The caller has already checked that the person may see the file. Types a browser would run
(HTML, SVG, scripts) always download as opaque bytes; only harmless images show inline.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, send_file

from ..models import Attachment
from ..services import attachments
from ..services.errors import NotFound

#: The one answer to "no such attachment", "not yours" and "on a ticket you cannot see", so a
#: 404 never tells a stranger that an attachment exists or which ticket holds it.
NO_ATTACHMENT = "No such attachment."


def visible_attachment(attachment_id: int, visible: Callable[[Attachment], bool]) -> Attachment:
    """The attachment, if it exists and ``visible(row)`` (which may itself raise NotFound) says
    the caller may have it; the same 404 otherwise."""
    try:
        row = attachments.get(attachment_id)
        allowed = visible(row)
    except NotFound:
        allowed = False
    if not allowed:
        raise NotFound(NO_ATTACHMENT)
    return row


def send_attachment(row: Attachment) -> Response:
    active = row.content_type in attachments.ACTIVE_TYPES
    inline = row.content_type.startswith("image/") and not active
    response = send_file(
        attachments.open_file(row),
        mimetype="application/octet-stream" if active else row.content_type,
        as_attachment=not inline,
        download_name=row.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response

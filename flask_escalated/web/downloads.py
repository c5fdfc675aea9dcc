"""Sending a stored attachment to a browser, the same way from every blueprint.

The caller has already checked that the person may see the file. Types a browser would run
(HTML, SVG, scripts) always download as opaque bytes; only harmless images show inline.
"""

from __future__ import annotations

from flask import Response, send_file

from ..models import Attachment
from ..services import attachments


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

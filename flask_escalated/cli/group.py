from __future__ import annotations

from flask.cli import AppGroup

escalated_cli = AppGroup("escalated", help="Escalated helpdesk commands.")

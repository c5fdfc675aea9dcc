"""Run-time settings: every key the settings service registers, with its own type."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, create_model

from ....services.mail import NOTIFICATIONS
from ....services.settings import (
    BRANDING_KEYS,
    GUEST_POLICY_MODES,
    MAX_RADIUS,
    MAX_WIDGET_ORIGINS,
    SETTINGS,
)
from ._base import Body, Color, Out, UserRef, absent

_ = BRANDING_KEYS  # the Branding model below names each of them


class Branding(Body):
    logo_url: Annotated[str, Field(max_length=500, pattern=r"^(https?://|/)",
                                   examples=["https://example.com/logo.svg"])] | None = None
    primary_color: Color | None = None
    radius: Annotated[int, Field(ge=0, le=MAX_RADIUS)] | None = None
    footer: Annotated[str, Field(max_length=500)] | None = None


MailNotifications = create_model(  # type: ignore[call-overload]
    "MailNotifications", __base__=Body,
    **{name: (bool, absent()) for name in NOTIFICATIONS})

_TYPES = {
    "app_name": Annotated[str, Field(min_length=1, max_length=120)],
    "branding": Branding,
    "kb_enabled": bool,
    "mail_notifications": MailNotifications,
    "guest_mailbox_proof": bool,
    # The service checks each origin's shape and folds case and duplicates.
    "widget_origins": Annotated[list[Annotated[str, Field(max_length=255)]], Field(
        max_length=MAX_WIDGET_ORIGINS, examples=[["https://shop.example"]])],
    "guest_policy_mode": Literal[GUEST_POLICY_MODES],  # type: ignore[valid-type]
    "guest_policy_user_id": UserRef | None,
    "guest_policy_signup_url_template": Annotated[str, Field(
        max_length=500, description="An http(s) URL or path containing {token}.")] | None,
}

#: The settings an admin may change (all or nothing); each field's description is the
#: setting's help text.
SettingsUpdate = create_model(  # type: ignore[call-overload]
    "SettingsUpdate", __base__=Body,
    **{key: (_TYPES[key], absent(description=spec.help)) for key, spec in SETTINGS.items()})


# ---------------------------------------------------------------------------- responses
_VALUE_TYPES = {key: dict[str, Any] if key in ("branding", "mail_notifications") else typ
                for key, typ in _TYPES.items()}

#: Every setting's current value.
SettingsValues = create_model(  # type: ignore[call-overload]
    "SettingsValues", __base__=Out,
    **{key: (_VALUE_TYPES[key] | None, ...) for key in SETTINGS})


class SettingsEnvelope(Out):
    data: SettingsValues  # type: ignore[valid-type]
    help: dict[str, str] = absent(description="Each setting's help text (GET).")

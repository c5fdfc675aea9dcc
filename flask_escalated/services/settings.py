"""The run-time settings store. Values here override the app config.

Admins change the settings named in :data:`SETTINGS` at run time (through the API or the admin
pages); each has a validator and a default read from the config, so a key that was never saved
still answers with what the host configured. Every change is audited with old and new values.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import select

from ..config import Config
from ..events import Actor
from ..models import Setting
from . import audit, cache, session
from .errors import ValidationError

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
GUEST_POLICY_MODES = ("unassigned", "guest_user", "prompt_signup")
BRANDING_KEYS = frozenset({"logo_url", "primary_color", "radius", "footer"})
DEFAULT_PRIMARY = "#2563eb"
DEFAULT_RADIUS = 8
MAX_RADIUS = 24


def _stored(key: str) -> tuple[bool, Any]:
    row = session().execute(select(Setting.value).where(Setting.key == key)).first()
    return (False, None) if row is None else (True, row[0])


def get(key: str, default: Any = None) -> Any:
    """The stored value of ``key`` (a copy: the process cache shares it), else ``default``."""
    found, stored = cache.cached(f"setting:{key}", lambda: _stored(key))
    return copy.deepcopy(stored) if found else default


def set_value(key: str, value: Any) -> Any:
    """Store ``value`` under ``key``; returns the previous value (``None`` if unset)."""
    row = session().execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
    g.pop("_escalated_settings", None)
    if row is None:
        session().add(Setting(key=key, value=value))
        return None
    old = row.value
    row.value = value
    return old


def delete(key: str) -> None:
    row = session().execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
    g.pop("_escalated_settings", None)
    if row is not None:
        session().delete(row)


# ---------------------------------------------------------------------------- registry
def _text(limit: int, *, optional: bool = True) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > limit or (not optional and not value):
            raise ValueError(f"text of at most {limit} characters")
        return value.strip()

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError("one of " + ", ".join(options))
        return str(value)

    return check


def _url_template(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 500 or "{token}" not in value \
            or not value.startswith(("https://", "http://", "/")):
        raise ValueError("an http(s) URL or path containing {token}")
    return value


def _branding(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - BRANDING_KEYS:
        raise ValueError("an object with logo_url, primary_color, radius and footer")
    out = dict(value)
    logo = out.get("logo_url")
    if logo is not None and (not isinstance(logo, str) or len(logo) > 500
                             or not logo.startswith(("https://", "http://", "/"))):
        raise ValueError("logo_url must be an http(s) URL or a path")
    colour = out.get("primary_color")
    if colour is not None and (not isinstance(colour, str) or not _COLOUR.match(colour)):
        raise ValueError("primary_color must look like #2563eb")
    footer = out.get("footer")
    if footer is not None and (not isinstance(footer, str) or len(footer) > 500):
        raise ValueError("footer is text of at most 500 characters")
    radius = out.get("radius")
    if radius is not None and (isinstance(radius, bool) or not isinstance(radius, int)
                               or not 0 <= radius <= MAX_RADIUS):
        raise ValueError(f"radius is a whole number of pixels from 0 to {MAX_RADIUS}")
    return out


def theme(branding: dict[str, Any]) -> dict[str, str]:
    """The CSS custom properties the pages use, from ``branding`` (values that do not
    validate fall back to the defaults, so nothing from a setting reaches CSS unchecked)."""
    colour = branding.get("primary_color")
    radius = branding.get("radius")
    if isinstance(radius, bool) or not isinstance(radius, int) or not 0 <= radius <= MAX_RADIUS:
        radius = DEFAULT_RADIUS
    return {
        "--esc-primary": colour if isinstance(colour, str) and _COLOUR.match(colour)
        else DEFAULT_PRIMARY,
        "--esc-radius": f"{radius}px",
    }


def _user_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("a host user id")
    return value


def _switches(value: Any) -> dict[str, bool]:
    from .mail import NOTIFICATIONS

    if not isinstance(value, dict) or set(value) - set(NOTIFICATIONS) \
            or not all(isinstance(v, bool) for v in value.values()):
        raise ValueError("an object of notification names (" + ", ".join(NOTIFICATIONS)
                         + ") to true or false")
    return {**{k: True for k in NOTIFICATIONS}, **value}


#: scheme://host[:port] as browsers send it in ``Origin`` (an IDN host in its xn-- form).
_ORIGIN = re.compile(r"https?://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")
MAX_WIDGET_ORIGINS = 100


def widget_origins(value: Any) -> list[str]:
    """A list of web origins (``https://shop.example``, ``http://localhost:8080``: scheme,
    host and port only, as browsers send them in ``Origin``), or ``["*"]`` for any site.
    Lower-cased, without a trailing slash and without duplicates."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_WIDGET_ORIGINS:
        raise ValueError(f"a list of at most {MAX_WIDGET_ORIGINS} origins such as "
                         "https://shop.example, or [\"*\"]")
    out: list[str] = []
    for item in value:
        origin = item.strip().lower().rstrip("/") if isinstance(item, str) else ""
        if origin != "*" and (len(origin) > 255 or not _ORIGIN.fullmatch(origin)):
            raise ValueError(f"{str(item)[:80]!r} is not an origin: scheme://host[:port], "
                             "no path (or \"*\")")
        if origin not in out:
            out.append(origin)
    return out


def _configured_origins(config: dict[str, Any]) -> list[str]:
    # Checked when the widget blueprint is registered, so a bad value fails at start-up.
    value = config[Config.WIDGET_ORIGINS]
    return widget_origins(list(value) if isinstance(value, tuple) else value)


@dataclass(frozen=True)
class SettingSpec:
    clean: Callable[[Any], Any]
    default: Callable[[dict[str, Any]], Any]
    help: str


#: Every setting admins may change at run time (the family's key names where they exist).
SETTINGS: dict[str, SettingSpec] = {
    "app_name": SettingSpec(_text(120, optional=False), lambda c: c[Config.APP_NAME],
                            "The helpdesk's name on pages and in e-mail."),
    "branding": SettingSpec(_branding, lambda c: dict(c[Config.BRANDING]),
                            "logo_url, primary_color and footer for pages and e-mail (the widget "
                            "takes the colour too); radius (px) for pages."),
    "kb_enabled": SettingSpec(_bool, lambda c: bool(c[Config.ENABLE_KB]),
                              "Whether the knowledge base is public."),
    "mail_notifications": SettingSpec(
        _switches, lambda c: _switches({}),
        "Which notification e-mails are sent (each true or false)."),
    "guest_mailbox_proof": SettingSpec(
        _bool, lambda c: False,
        "Public submissions must first confirm a code mailed to their address."),
    "widget_origins": SettingSpec(
        widget_origins, _configured_origins,
        "Sites (origins such as https://shop.example) whose pages may use the widget; "
        "[\"*\"] for any. Empty: only this helpdesk's own origin."),
    "guest_policy_mode": SettingSpec(
        _choice(GUEST_POLICY_MODES), lambda c: c[Config.GUEST_POLICY].get("mode", "unassigned"),
        "Who owns tickets from people without an account."),
    "guest_policy_user_id": SettingSpec(
        _user_id, lambda c: c[Config.GUEST_POLICY].get("user_id"),
        "The host user that guest tickets belong to (guest_user mode)."),
    "guest_policy_signup_url_template": SettingSpec(
        _url_template, lambda c: c[Config.GUEST_POLICY].get("signup_url_template"),
        "Sign-up invitation link, with {token} (prompt_signup mode)."),
}


def effective() -> dict[str, Any]:
    """Every registered setting's current value (stored, else the config's), cached per
    request."""
    cached = g.get("_escalated_settings")
    if cached is not None:
        return dict(cached)
    stored: dict[str, Any] = copy.deepcopy(cache.cached("settings:registered", _registered))
    cfg = current_app.config
    values = {key: stored[key] if key in stored else spec.default(cfg)
              for key, spec in SETTINGS.items()}
    g._escalated_settings = values
    return dict(values)


def _registered() -> dict[str, Any]:
    return {key: val for key, val in session().execute(
        select(Setting.key, Setting.value).where(Setting.key.in_(list(SETTINGS))))}


def value(key: str) -> Any:
    return effective()[key]


def _same(key: str, old: Any, new: Any) -> bool:
    """Whether storing ``new`` would change nothing a reader sees. Branding is read merged
    over the config's (:func:`branding`), and an empty value there means "none"."""
    if key == "branding":
        def seen(value: Any) -> dict[str, Any]:
            return {k: v for k, v in branding(value).items() if v not in (None, "")}

        return seen(old) == seen(new)
    return bool(old == new)


def branding(stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The branding readers use: the ``branding`` setting over the config's (``stored``:
    that setting's value, read now when not given)."""
    value = effective()["branding"] if stored is None else stored
    return {**current_app.config[Config.BRANDING], **value}


def update(actor: Actor, changes: dict[str, Any], *,
           skip_unchanged: bool = False) -> dict[str, Any]:
    """Validate and store ``changes`` (all or nothing); audited with old and new values.

    ``skip_unchanged``: store only the settings whose value changes, so a form that posts
    every setting leaves those still coming from the config following the config.
    """
    if not isinstance(changes, dict) or not changes:
        raise ValidationError("Send an object of settings to change.", {"body": "empty"})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, raw in changes.items():
        spec = SETTINGS.get(key)
        if spec is None:
            errors[str(key)[:60]] = "not a setting"
            continue
        try:
            clean[key] = spec.clean(raw)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError("Some settings are not valid.", errors)
    before = effective()
    if skip_unchanged:
        clean = {k: v for k, v in clean.items() if not _same(k, before.get(k), v)}
    for key, new in clean.items():
        set_value(key, new)
    if clean:
        session().flush()
    changed = {k: v for k, v in clean.items() if before.get(k) != v}
    if changed:
        audit.log(actor, "settings.updated", "settings", None,
                  old={k: before.get(k) for k in changed}, new=changed)
    return effective()

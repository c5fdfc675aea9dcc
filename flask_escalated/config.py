"""Every ``ESCALATED_*`` configuration key, its default, and its validation.

Keys are named once, here (``Config``), so no other module spells a key as a string literal.
``apply_defaults`` fills the host's ``app.config`` with ``setdefault`` and then validates the
combination, naming the offending key in the error so a host sees what to fix at start-up
rather than on the first request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .domain import PRIORITIES

MiB = 1024 * 1024


class Config:
    """Names of the configuration keys (all prefixed ``ESCALATED_``)."""

    ROUTE_PREFIX = "ESCALATED_ROUTE_PREFIX"
    UI_ENABLED = "ESCALATED_UI_ENABLED"
    API_ENABLED = "ESCALATED_API_ENABLED"
    DEFAULT_PRIORITY = "ESCALATED_DEFAULT_PRIORITY"
    TICKET_REFERENCE_PREFIX = "ESCALATED_TICKET_REFERENCE_PREFIX"
    ALLOW_CUSTOMER_CLOSE = "ESCALATED_ALLOW_CUSTOMER_CLOSE"
    AUTO_CLOSE_RESOLVED_AFTER_DAYS = "ESCALATED_AUTO_CLOSE_RESOLVED_AFTER_DAYS"
    PURGE_ACTIVITIES_AFTER_DAYS = "ESCALATED_PURGE_ACTIVITIES_AFTER_DAYS"
    MAX_ATTACHMENTS = "ESCALATED_MAX_ATTACHMENTS"
    MAX_ATTACHMENT_SIZE = "ESCALATED_MAX_ATTACHMENT_SIZE"
    ATTACHMENT_STORAGE = "ESCALATED_ATTACHMENT_STORAGE"
    SLA = "ESCALATED_SLA"
    REDIS_URL = "ESCALATED_REDIS_URL"
    ENABLE_REALTIME = "ESCALATED_ENABLE_REALTIME"
    SOCKETIO_MESSAGE_QUEUE = "ESCALATED_SOCKETIO_MESSAGE_QUEUE"
    ENABLE_KB = "ESCALATED_ENABLE_KB"
    SEARCH_LANGUAGE = "ESCALATED_SEARCH_LANGUAGE"
    ENABLE_CSAT = "ESCALATED_ENABLE_CSAT"
    ENABLE_2FA = "ESCALATED_ENABLE_2FA"
    APP_NAME = "ESCALATED_APP_NAME"
    APP_URL = "ESCALATED_APP_URL"
    BRANDING = "ESCALATED_BRANDING"
    MAIL_FROM = "ESCALATED_MAIL_FROM"
    MAIL_DOMAIN = "ESCALATED_MAIL_DOMAIN"
    REPLY_SECRET = "ESCALATED_REPLY_SECRET"  # noqa: S105 (a key name)
    REPLY_SECRET_PREVIOUS = "ESCALATED_REPLY_SECRET_PREVIOUS"  # noqa: S105 (a key name)
    INBOUND_SECRET = "ESCALATED_INBOUND_SECRET"  # noqa: S105 (a key name)
    GUEST_POLICY = "ESCALATED_GUEST_POLICY"
    WIDGET_ORIGINS = "ESCALATED_WIDGET_ORIGINS"
    WIDGET_RATE_LIMIT = "ESCALATED_WIDGET_RATE_LIMIT"
    WEBHOOK_MAX_ATTEMPTS = "ESCALATED_WEBHOOK_MAX_ATTEMPTS"
    WEBHOOK_ALLOWED_HOSTS = "ESCALATED_WEBHOOK_ALLOWED_HOSTS"
    RATE_LIMIT_STORAGE_URI = "ESCALATED_RATE_LIMIT_STORAGE_URI"
    RATE_LIMIT_ENABLED = "ESCALATED_RATE_LIMIT_ENABLED"
    RATE_LIMITS = "ESCALATED_RATE_LIMITS"
    REQUIRE_2FA = "ESCALATED_REQUIRE_2FA"
    TWO_FACTOR_ISSUER = "ESCALATED_TWO_FACTOR_ISSUER"
    LAYOUT_TEMPLATE = "ESCALATED_LAYOUT_TEMPLATE"
    HOME_URL = "ESCALATED_HOME_URL"
    SIGN_OUT_URL = "ESCALATED_SIGN_OUT_URL"
    MAX_BODY_LENGTH = "ESCALATED_MAX_BODY_LENGTH"
    #: Keep statuses, SLA policies, roles and the other admin-edited configuration in memory
    #: per process (``services.cache``); off, every lookup reads the database.
    PROCESS_CACHE = "ESCALATED_PROCESS_CACHE"
    API_PAGE_SIZE = "ESCALATED_API_PAGE_SIZE"
    API_MAX_PAGE_SIZE = "ESCALATED_API_MAX_PAGE_SIZE"
    FRAME_ANCESTORS = "ESCALATED_FRAME_ANCESTORS"
    REFERRER_POLICY = "ESCALATED_REFERRER_POLICY"


#: Default SLA settings; ``business_hours`` applies when a policy is ``business_hours_only``.
DEFAULT_SLA: dict[str, Any] = {
    "enabled": True,
    "business_hours_only": False,
    "business_hours": {
        "timezone": "UTC",
        "start": "09:00",
        "end": "17:00",
        "days": [1, 2, 3, 4, 5],
    },
}

#: PostgreSQL's built-in text-search configurations (``pg_ts_config``), the values
#: ``ESCALATED_SEARCH_LANGUAGE`` accepts; ``simple`` lower-cases without stemming. The other
#: databases stem English (SQLite's porter tokenizer) or not at all (MariaDB).
SEARCH_LANGUAGES = (
    "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish",
    "french", "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian",
    "lithuanian", "nepali", "norwegian", "portuguese", "romanian", "russian", "serbian",
    "simple", "spanish", "swedish", "tamil", "turkish", "yiddish",
)

DEFAULTS: dict[str, Any] = {
    Config.ROUTE_PREFIX: "/support",
    Config.UI_ENABLED: True,
    Config.API_ENABLED: True,
    Config.DEFAULT_PRIORITY: "medium",
    Config.TICKET_REFERENCE_PREFIX: "ESC",
    Config.ALLOW_CUSTOMER_CLOSE: True,
    Config.AUTO_CLOSE_RESOLVED_AFTER_DAYS: 7,
    Config.PURGE_ACTIVITIES_AFTER_DAYS: 365,
    Config.MAX_ATTACHMENTS: 5,
    Config.MAX_ATTACHMENT_SIZE: 10 * MiB,
    Config.ATTACHMENT_STORAGE: None,  # None: "<instance_path>/escalated-attachments"
    Config.SLA: DEFAULT_SLA,
    Config.REDIS_URL: None,
    Config.ENABLE_REALTIME: False,
    Config.SOCKETIO_MESSAGE_QUEUE: None,
    Config.ENABLE_KB: True,
    Config.SEARCH_LANGUAGE: "english",
    Config.ENABLE_CSAT: True,
    Config.ENABLE_2FA: False,
    Config.APP_NAME: "Escalated",
    Config.APP_URL: None,
    Config.BRANDING: {"logo_url": None, "primary_color": "#2563eb", "footer": ""},
    Config.MAIL_FROM: None,
    Config.MAIL_DOMAIN: None,
    #: None: derived from SECRET_KEY (see services/mail_ids.py).
    Config.REPLY_SECRET: None,
    #: Earlier reply secrets, still accepted on inbound mail (rotation).
    Config.REPLY_SECRET_PREVIOUS: [],
    Config.INBOUND_SECRET: None,
    Config.GUEST_POLICY: {"mode": "unassigned"},
    Config.WIDGET_ORIGINS: [],  # the admin lists the sites that embed the widget
    Config.WIDGET_RATE_LIMIT: "30 per minute",
    Config.WEBHOOK_MAX_ATTEMPTS: 8,
    Config.WEBHOOK_ALLOWED_HOSTS: [],
    Config.RATE_LIMIT_STORAGE_URI: None,  # None: ESCALATED_REDIS_URL, else in memory
    Config.RATE_LIMIT_ENABLED: True,
    #: Per route family; several limits separated by ';'. The widget family reads
    #: ESCALATED_WIDGET_RATE_LIMIT unless set here.
    Config.RATE_LIMITS: {
        "api": "300 per minute",
        "auth": "5 per minute; 30 per hour",
        "guest": "30 per minute",
        "inbound": "120 per minute",
        # Confirmation mails to one address, for tickets that strangers open (widget,
        # inbound mail): past it the ticket is still opened but no mail goes out.
        "mail_recipient": "5 per hour; 20 per day",
    },
    Config.REQUIRE_2FA: False,  # with ENABLE_2FA: every agent must enrol
    Config.TWO_FACTOR_ISSUER: None,  # None: ESCALATED_APP_NAME
    Config.LAYOUT_TEMPLATE: None,
    #: The header's link back to the host app; "" hides it.
    Config.HOME_URL: "/",
    #: The header's sign-out: None finds the host's ``logout`` endpoint; "" hides it.
    Config.SIGN_OUT_URL: None,
    Config.MAX_BODY_LENGTH: 200_000,
    Config.PROCESS_CACHE: True,
    Config.API_PAGE_SIZE: 25,
    Config.API_MAX_PAGE_SIZE: 100,
    #: Who may show Escalated's pages in a frame: CSP ``frame-ancestors`` sources, e.g.
    #: ``["'self'", "https://intranet.example"]``; ``'self'`` and ``'none'`` also send the
    #: matching ``X-Frame-Options``. The widget's script and JSON are left out on purpose.
    Config.FRAME_ANCESTORS: ["'self'"],
    Config.REFERRER_POLICY: "strict-origin-when-cross-origin",
}

#: The values ``Referrer-Policy`` accepts.
REFERRER_POLICIES = frozenset({
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
    "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
})
_FRAME_SOURCE = re.compile(r"^(?:'self'|'none'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?"
                           r"[A-Za-z0-9*.-]+(?::(?:[0-9]{1,5}|\*))?)$")

_REFERENCE_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")


class ConfigurationError(RuntimeError):
    """Raised at ``init_app`` when a configuration value cannot work."""


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill every missing key with its default, then validate the result."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, _copy(value))
    validate(config)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


def validate(config: Mapping[str, Any]) -> None:
    """Check values and combinations; the message names the key and says what is accepted."""
    prefix = config[Config.ROUTE_PREFIX]
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise ConfigurationError(f"{Config.ROUTE_PREFIX} must be a path starting with '/'")
    if config[Config.DEFAULT_PRIORITY] not in PRIORITIES:
        raise ConfigurationError(
            f"{Config.DEFAULT_PRIORITY} must be one of {', '.join(PRIORITIES)}"
        )
    if not _REFERENCE_PREFIX.match(str(config[Config.TICKET_REFERENCE_PREFIX])):
        raise ConfigurationError(
            f"{Config.TICKET_REFERENCE_PREFIX} must be 1-10 upper-case letters or digits, "
            "starting with a letter"
        )
    for key in (Config.MAX_ATTACHMENTS, Config.MAX_ATTACHMENT_SIZE, Config.MAX_BODY_LENGTH):
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigurationError(f"{key} must be a non-negative integer")
    _validate_rate_limits(config)
    for key in (Config.HOME_URL, Config.SIGN_OUT_URL):
        _validate_link(key, config[key], optional=key == Config.SIGN_OUT_URL)
    _validate_reply_secrets(config)
    frame_ancestors(config)
    if config[Config.REFERRER_POLICY] not in REFERRER_POLICIES:
        raise ConfigurationError(
            f"{Config.REFERRER_POLICY} must be one of {', '.join(sorted(REFERRER_POLICIES))}")
    if config[Config.SEARCH_LANGUAGE] not in SEARCH_LANGUAGES:
        raise ConfigurationError(
            f"{Config.SEARCH_LANGUAGE} must be one of {', '.join(SEARCH_LANGUAGES)}")
    if config[Config.ENABLE_REALTIME] is True and config[Config.SOCKETIO_MESSAGE_QUEUE] == "":
        raise ConfigurationError(f"{Config.SOCKETIO_MESSAGE_QUEUE} must be a URL or None")


def _validate_link(key: str, value: Any, *, optional: bool) -> None:
    """A header link: a path on this site or an http(s) URL ("" hides the link)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or (
        value and not (value.startswith("/") or re.match(r"^https?://[^/\s]", value))
    ) or any(c.isspace() for c in value):
        raise ConfigurationError(
            f"{key} must be a path starting with '/', an http(s) URL, or '' to hide the link"
            + (" (None finds the host's 'logout' endpoint)" if optional else "")
        )


def _validate_reply_secrets(config: Mapping[str, Any]) -> None:
    secret, previous = config[Config.REPLY_SECRET], config[Config.REPLY_SECRET_PREVIOUS]
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConfigurationError(
            f"{Config.REPLY_SECRET} must be a non-empty string, or None to derive it from "
            "SECRET_KEY")
    if not isinstance(previous, list | tuple) or not all(
            isinstance(s, str) and s for s in previous):
        raise ConfigurationError(
            f"{Config.REPLY_SECRET_PREVIOUS} must be a list of non-empty strings")


#: The route families that carry their own rate limit.
RATE_LIMIT_FAMILIES = ("api", "auth", "widget", "guest", "inbound", "mail_recipient")


def rate_limit_for(config: Mapping[str, Any], family: str) -> str:
    """The limit string for ``family`` (the widget's lives in its own DESIGN key)."""
    limits = config[Config.RATE_LIMITS]
    if family == "widget" and "widget" not in limits:
        return str(config[Config.WIDGET_RATE_LIMIT])
    return str(limits.get(family) or DEFAULTS[Config.RATE_LIMITS][family])


def _validate_rate_limits(config: Mapping[str, Any]) -> None:
    from limits import parse_many

    limits = config[Config.RATE_LIMITS]
    if not isinstance(limits, dict) or set(limits) - set(RATE_LIMIT_FAMILIES):
        raise ConfigurationError(
            f"{Config.RATE_LIMITS} must be a dict whose keys are among "
            f"{', '.join(RATE_LIMIT_FAMILIES)}")
    for family in RATE_LIMIT_FAMILIES:
        value = rate_limit_for(config, family)
        try:
            parse_many(value)
        except ValueError:
            key = Config.WIDGET_RATE_LIMIT if family == "widget" else Config.RATE_LIMITS
            raise ConfigurationError(
                f"{key}: '{value}' for {family} is not a rate limit such as '30 per minute'"
            ) from None


def frame_ancestors(config: Mapping[str, Any]) -> list[str]:
    """The configured CSP ``frame-ancestors`` sources (a string or a list of them), checked so
    that nothing but a source list reaches the header."""
    raw = config[Config.FRAME_ANCESTORS]
    sources = raw.split() if isinstance(raw, str) else raw
    if (not isinstance(sources, list | tuple) or not sources
            or not all(isinstance(s, str) and _FRAME_SOURCE.match(s) for s in sources)):
        raise ConfigurationError(
            f"{Config.FRAME_ANCESTORS} must list CSP sources such as \"'self'\", \"'none'\" "
            "or \"https://intranet.example\"")
    if "'none'" in sources and len(sources) > 1:
        raise ConfigurationError(f"{Config.FRAME_ANCESTORS}: 'none' cannot be combined")
    return list(sources)

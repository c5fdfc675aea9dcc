"""What every Escalated page and e-mail shares around its content.

* Message bodies: the ``escalated_message`` filter renders a description or reply as sanitized
  Markdown for our own pages, ``escalated_offsite_message`` for HTML read elsewhere (e-mail),
  where relative links are made absolute. Both use :func:`services.sanitize.message_html`, the
  renderer the agent page uses, so every surface shows the same thing.
* The way out: ``escalated_host_links()`` gives the header its link back to the host app
  (``ESCALATED_HOME_URL``) and its sign-out (``ESCALATED_SIGN_OUT_URL``, by default the host's
  ``logout`` endpoint). Sign-out is a form posting the CSRF token when the host's route takes
  POST (Flask-WTF's token when ``CSRFProtect`` is installed, else Escalated's), else a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from ..config import Config
from ..services import ext
from ..services.sanitize import message_html
from .security import csrf_token

#: The host endpoint a Flask-Login app conventionally signs out with.
LOGOUT_ENDPOINT = "logout"


@dataclass(frozen=True)
class SignOut:
    url: str
    #: True: a POST form with ``csrf_token``; False: a plain link.
    post: bool
    csrf_token: str | None = None


@dataclass(frozen=True)
class HostLinks:
    home_url: str | None
    sign_out: SignOut | None


def install(app: Flask) -> None:
    """Register the filters and the header's links on ``app``'s templates."""
    app.add_template_filter(page_message, "escalated_message")
    app.add_template_filter(offsite_message, "escalated_offsite_message")
    app.context_processor(lambda: {"escalated_host_links": host_links})


def page_message(text: str | None) -> Markup:
    """A message body for one of our pages."""
    return Markup(message_html(text or ""))  # noqa: S704 (sanitized by message_html)


def site_base() -> str | None:
    """Where relative links point when read off this site: ``ESCALATED_APP_URL``, else the
    URL of the request being served."""
    base = current_app.config[Config.APP_URL]
    if not base and has_request_context():
        base = request.host_url
    return str(base) if base else None


def offsite_message(text: str | None) -> Markup:
    """A message body for HTML read away from this site (e-mail, the widget)."""
    return Markup(message_html(  # noqa: S704 (sanitized by message_html)
        text or "", base_url=site_base(), off_site=True))


def host_links() -> HostLinks:
    """The header's link home and sign-out for the current request."""
    home = current_app.config[Config.HOME_URL] or None
    return HostLinks(home_url=home, sign_out=_sign_out())


def _sign_out() -> SignOut | None:
    if ext().current_user() is None:
        return None
    configured = current_app.config[Config.SIGN_OUT_URL]
    if configured == "":
        return None
    if configured is None:
        if LOGOUT_ENDPOINT not in current_app.view_functions:
            return None
        try:
            configured = url_for(LOGOUT_ENDPOINT)
        except BuildError:  # the endpoint needs arguments we cannot guess
            return None
    url = str(configured)
    if not _accepts_post(url):
        return SignOut(url=url, post=False)
    return SignOut(url=url, post=True, csrf_token=_form_token())


def _accepts_post(url: str) -> bool:
    """Whether a route of this app at ``url`` takes POST (a URL elsewhere gets a link)."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return False
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        return "POST" in adapter.allowed_methods(parts.path or "/")
    except HTTPException:
        return False


def _form_token() -> str:
    """The CSRF token the host's sign-out route checks."""
    if "csrf" in current_app.extensions:  # Flask-WTF's CSRFProtect
        try:
            from flask_wtf.csrf import generate_csrf
        except ImportError:
            pass
        else:
            return str(generate_csrf())
    return csrf_token()

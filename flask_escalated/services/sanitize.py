"""Turning untrusted HTML and Markdown into HTML that is safe to show.

Every HTML body that reaches a page (an inbound e-mail's HTML part, a knowledge-base article
rendered from Markdown, a ticket's description and replies wherever they are shown: the agent
and customer pages, the guest page, the widget, notification e-mails) goes through
:func:`clean_html`: an allow-list of tags and attributes
(nh3, the Rust ``ammonia`` sanitizer), links forced to ``rel="noopener noreferrer nofollow"``,
only http(s) and mailto URLs, no scripts, styles, event handlers or iframes.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_messages = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def clean_html(html: str, *, url_relative: Any = None) -> str:
    """Untrusted HTML reduced to the allow-list.

    ``url_relative`` is nh3's: ``None`` keeps relative URLs as they are (right on our own
    pages), ``("rewrite_with_base", base)`` makes them absolute, ``"deny"`` drops them."""
    return nh3.clean(
        html or "",
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        url_relative=url_relative,
    )


def markdown_to_html(text: str) -> str:
    """CommonMark (with tables; raw HTML is not passed through) rendered and sanitized."""
    return clean_html(_markdown.render(text or ""))


def message_html(text: str, *, base_url: str | None = None, off_site: bool = False) -> str:
    """A ticket description, reply or note as HTML: Markdown with hard line breaks (mail keeps
    its shape), raw HTML shown as text, and the result sanitized.

    The one renderer for every surface that shows a message, so the customer reads what the
    agent reads. ``off_site`` is for HTML shown away from this site (e-mail, the widget on a
    host's page), where a relative link such as ``/support/kb/...`` would point nowhere: it is
    made absolute against ``base_url``, or dropped when there is none."""
    relative: Any = None
    if off_site:
        relative = ("rewrite_with_base", base_url) if _absolute(base_url) else "deny"
    return clean_html(_messages.render(text or ""), url_relative=relative)


def _absolute(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def html_to_text(html: str) -> str:
    """A plain-text rendering of (sanitized) HTML, for search indexes and text bodies."""
    text = clean_html(html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>", "\n", text)
    text = html_lib.unescape(_TAGS.sub("", text))
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

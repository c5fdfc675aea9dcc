"""Turning untrusted HTML and Markdown into HTML that is safe to show.

Every HTML body that reaches a page (an inbound e-mail's HTML part, a knowledge-base article
rendered from Markdown) goes through :func:`clean_html`: an allow-list of tags and attributes
(nh3, the Rust ``ammonia`` sanitizer), links forced to ``rel="noopener noreferrer nofollow"``,
only http(s) and mailto URLs, no scripts, styles, event handlers or iframes.
"""

from __future__ import annotations

import html as html_lib
import re

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


def clean_html(html: str) -> str:
    """Untrusted HTML reduced to the allow-list."""
    return nh3.clean(
        html or "",
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """CommonMark (with tables; raw HTML is not passed through) rendered and sanitized."""
    return clean_html(_markdown.render(text or ""))


def message_html(text: str) -> str:
    """A reply or note body for a page: Markdown with hard line breaks (mail keeps its shape),
    raw HTML shown as text, and the result sanitized."""
    return clean_html(_messages.render(text or ""))


def html_to_text(html: str) -> str:
    """A plain-text rendering of (sanitized) HTML, for search indexes and text bodies."""
    text = clean_html(html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>", "\n", text)
    text = html_lib.unescape(_TAGS.sub("", text))
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

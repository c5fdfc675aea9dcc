"""Outgoing mail headers written as data: every value is encoded, never concatenated.

Why not just ``message["Subject"] = value``? The standard library's header registry *decodes*
RFC 2047 encoded words in the values it is given and writes the decoded text back out as is:
a subject ``X =?utf-8?q?=0D=0AReply-To:_x@evil?=`` becomes a real ``Reply-To`` header and a
blank line (Python before 3.11.10 / 3.12.5 has no check for this). So each header here is
folded by :func:`fold` itself and stored on the message as a ready-made header object, which
:class:`~email.message.EmailMessage` writes verbatim:

- text (``Subject``, custom headers): one line (line breaks and other control characters become
  spaces), plain ASCII as it is, anything else (non-ASCII, or text that could be read as an
  encoded word) as RFC 2047 encoded words, so a reader decodes exactly the text we meant;
- addresses: a validated ``local@domain`` (the domain IDNA-encoded; a non-ASCII local part
  needs SMTPUTF8 and is flagged), the display name quoted or encoded the same way;
- message ids (``Message-ID``, ``In-Reply-To``, ``References``): ``<left@right>`` only.

A value that cannot be written safely raises :class:`UnsafeHeader` (a ``ValueError``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from typing import Any

#: Characters a reader may take as a line break (CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS).
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")
_MSG_ID = re.compile(r"^<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>$")  # printable ASCII minus < >
_LOCAL = re.compile(r"^[^@\s<>\"',;:()\[\]\\\x00-\x1f\x7f]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MAX_LINE = 78


class UnsafeHeader(ValueError):
    """A header value that cannot be written as data (a bad address, message id or name)."""


def one_line(value: object, limit: int | None = None) -> str:
    """Text fit for a header: line breaks and other non-printable characters become spaces,
    runs of white space one space; cut at ``limit``."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = "".join(ch if ch.isprintable() else " " for ch in LINE_BREAKS.sub(" ", text))
    text = " ".join(text.split())
    return text[:limit].strip() if limit is not None else text


@dataclass(frozen=True)
class _Folded:
    """A header we folded ourselves; EmailMessage stores and writes it without re-parsing
    (its policy keeps any value that has a matching ``name`` and a ``fold`` method)."""

    name: str
    lines: tuple[str, ...]
    text: str  # the decoded value, for anyone reading the header back

    def fold(self, *, policy: Any) -> str:
        return f"{self.name}: {(policy.linesep + ' ').join(self.lines)}{policy.linesep}"

    def __str__(self) -> str:
        return self.text


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UnsafeHeader(f"{name[:40]!r} is not a header name.")
    return name


def _encoded(text: str, name: str) -> list[str]:
    """``text`` as folded lines: ASCII as is (folded at spaces), else encoded words."""
    if text.isascii() and "=?" not in text:
        header = Header(text, "us-ascii", header_name=name, maxlinelen=_MAX_LINE)
        return header.encode(splitchars=" ", linesep="\n").split("\n")
    header = Header(text, "utf-8", header_name=name, maxlinelen=_MAX_LINE)
    return header.encode(linesep="\n").split("\n")


def _store(message: EmailMessage, name: str, lines: list[str], text: str) -> None:
    lines = [line.strip() for line in lines if line.strip()] or [""]
    del message[name]
    message[name] = _Folded(name, tuple(lines), text)  # type: ignore[assignment]


def set_text(message: EmailMessage, name: str, value: object, limit: int = 900) -> None:
    """An unstructured header (Subject, X-...): one line of text, encoded when needed."""
    text = one_line(value, limit)
    _store(message, _check_name(name), _encoded(text, name), text)


@dataclass(frozen=True)
class Mailbox:
    """A checked address: ``addr_spec`` is what goes on the wire and in the SMTP envelope."""

    addr_spec: str
    needs_smtputf8: bool


def mailbox(address: object) -> Mailbox:
    """Check an address; an international domain becomes its IDNA (``xn--``) form, and a
    non-ASCII local part is flagged (it can travel only over SMTPUTF8)."""
    text = address.strip() if isinstance(address, str) else ""
    local, _, domain = text.rpartition("@")
    if not local or not _LOCAL.match(local):
        raise UnsafeHeader(f"{one_line(text, 80)!r} is not an e-mail address.")
    labels = domain.rstrip(".").split(".")
    try:
        ascii_labels = [label if label.isascii() else label.encode("idna").decode("ascii")
                        for label in labels]
    except UnicodeError:
        raise UnsafeHeader(f"The domain {one_line(domain, 80)!r} cannot be IDNA-encoded."
                           ) from None
    if len(ascii_labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in ascii_labels):
        raise UnsafeHeader(f"{one_line(text, 80)!r} is not an e-mail address.")
    return Mailbox(f"{local}@{'.'.join(ascii_labels).lower()}", not local.isascii())


def set_address(message: EmailMessage, name: str, address: object,
                display_name: object = None) -> Mailbox:
    """An address header with one mailbox; returns the checked mailbox."""
    box = mailbox(address)
    display = one_line(display_name, 255)
    if not display:
        lines, text = [box.addr_spec], box.addr_spec
    else:
        if display.isascii() and "=?" not in display:
            quoted = display.replace("\\", "\\\\").replace('"', '\\"')
            lines = [f'"{quoted}"']
        else:
            lines = _encoded(display, _check_name(name))
        lines[-1] = f"{lines[-1]} <{box.addr_spec}>"
        text = f"{display} <{box.addr_spec}>"
    _store(message, _check_name(name), lines, text)
    return box


def message_id(value: object) -> str:
    """A ``<left@right>`` message id, or :class:`UnsafeHeader`."""
    text = value.strip() if isinstance(value, str) else ""
    if not _MSG_ID.match(text):
        raise UnsafeHeader(f"{one_line(text, 80)!r} is not a message id.")
    return text


def set_message_ids(message: EmailMessage, name: str, values: Iterable[object]) -> None:
    """Message-ID, In-Reply-To or References: checked ids, one per folded line."""
    ids = [message_id(v) for v in values]
    if not ids:
        raise UnsafeHeader(f"{name} needs a message id.")
    _store(message, _check_name(name), ids, " ".join(ids))

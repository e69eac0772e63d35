"""Checks on what companies and advisors send, with Swedish messages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot import texts

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^[0-9 +()\-]{6,20}$")


class Invalid(ValueError):
    """Input rejected; `code` is machine-readable, `message` Swedish."""

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


# Characters that change how text around them is shown without showing themselves:
# control characters (NUL included), lone surrogates, and the format characters (category
# Cf): the bidi embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069, the
# marks U+200E, U+200F and U+061C, the zero-width U+200B-U+200D, U+2060 and U+FEFF, the
# soft hyphen. "Faktura \u202egpj.exe" would read "Faktura exe.jpg"; it is kept as
# "Faktura gpj.exe", which is what it really says.
_HIDDEN = ("Cc", "Cs", "Cf")


def neutralize(raw: str) -> str:
    """Text without control, surrogate and invisible format characters; newlines and tabs
    stay (CR LF and CR become LF). Used for every text a company or an advisor writes."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _HIDDEN)


def clean_text(raw: object, max_chars: int) -> str:
    """A message text: a string, hidden characters removed, trimmed, not empty, not too long."""
    if not isinstance(raw, str):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    text = unicodedata.normalize("NFC", neutralize(raw)).strip()
    if not text:
        raise Invalid("empty_message", texts.EMPTY_MESSAGE)
    if len(text) > max_chars:
        raise Invalid("message_too_long", texts.message_too_long(max_chars))
    return text


def clean_line(raw: object, max_chars: int) -> str:
    """A one-line field (name, company): no newlines, trimmed, may be empty."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    text = " ".join(unicodedata.normalize("NFC", neutralize(raw)).split())
    return text[:max_chars]


def sender_id(raw: object, max_chars: int = 128) -> str:
    """A program's own id for its conversation (REST `sender`): printable text (no control,
    invisible, private-use or unassigned characters, no line breaks), not empty, at most
    `max_chars`."""
    if not isinstance(raw, str):
        raise Invalid("bad_request", texts.BAD_SENDER)
    sender = raw.strip()
    if not 0 < len(sender) <= max_chars or not sender.isprintable():
        raise Invalid("bad_request", texts.BAD_SENDER)
    return sender


def row_id(raw: str) -> int:
    """A database id from a URL: ASCII digits, at most 18 of them (a larger number would not
    fit the database's integer: an overflow, not a "not found"). ValueError otherwise."""
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18):
        raise ValueError(f"not an id: {raw[:20]!r}")
    return int(raw)


def client_id(raw: object) -> str:
    if not isinstance(raw, str) or not _CLIENT_ID.match(raw):
        raise Invalid("bad_request", texts.BAD_CLIENT_ID)
    return raw


@dataclass(frozen=True)
class TicketForm:
    name: str
    company: str
    email: str
    phone: str
    question: str


def ticket_form(data: dict[str, object], max_chars: int) -> TicketForm:
    """Validate the offline form; all field errors are reported at once."""
    errors: dict[str, str] = {}
    question = ""
    try:
        question = clean_text(data.get("question"), max_chars)
    except Invalid as exc:
        errors["question"] = texts.TICKET_QUESTION_MISSING if exc.code == "empty_message" else exc.message
    try:
        name = clean_line(data.get("name"), 200)
        company = clean_line(data.get("company"), 200)
        email = clean_line(data.get("email"), 254)
        phone = clean_line(data.get("phone"), 32)
    except Invalid as exc:
        raise Invalid("invalid_ticket", texts.TICKET_INVALID, {"form": exc.message}) from exc
    if email and not _EMAIL.match(email):
        errors["email"] = texts.TICKET_EMAIL_INVALID
    if phone and not _PHONE.match(phone):
        errors["phone"] = texts.TICKET_PHONE_INVALID
    if not email and not phone:
        errors["email"] = texts.TICKET_CONTACT_MISSING
    if errors:
        raise Invalid("invalid_ticket", texts.TICKET_INVALID, errors)
    return TicketForm(name=name, company=company, email=email, phone=phone, question=question)

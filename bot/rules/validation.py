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


def clean_text(raw: object, max_chars: int) -> str:
    """A message text: a string, control characters removed, trimmed, not empty, not too long."""
    if not isinstance(raw, str):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
    text = unicodedata.normalize("NFC", text).strip()
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
    text = " ".join("".join(ch for ch in raw if unicodedata.category(ch) not in ("Cc", "Cs")).split())
    return text[:max_chars]


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

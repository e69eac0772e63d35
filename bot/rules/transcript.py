"""A chat's transcript as a plain-text e-mail to the company (plain functions).

Only what the company itself saw: its messages, the bot's, the advisors' and the
gateway's notices; never an advisor's internal note.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")
ORGANISATION = "Västmanlands Företagssupport"
COMPANY_VISIBLE = ("user", "bot", "advisor", "system")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


@dataclass(frozen=True)
class Line:
    role: str
    text: str | None
    author: str | None
    at: dt.datetime
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def valid_email(address: str) -> bool:
    return len(address) <= MAX_EMAIL and bool(_EMAIL.match(address)) and "\n" not in address


def swedish_day(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def speaker(line: Line) -> str:
    if line.role == "user":
        return "Du"
    if line.role == "bot":
        return "Digital assistent"
    if line.role == "advisor":
        return f"{line.author or 'Rådgivare'}, rådgivare"
    return ORGANISATION


def compose(lines: Sequence[Line], timezone: str) -> Mail:
    """Subject and body of the transcript e-mail, times in the office's time zone."""
    zone = ZoneInfo(timezone)
    shown = [line for line in lines if line.role in COMPANY_VISIBLE and (line.text or line.buttons)]
    first_day = shown[0].at.astimezone(zone).date() if shown else None
    subject = f"Ditt samtal med {ORGANISATION}" + (f" den {swedish_day(first_day)}" if first_day else "")
    out = [
        "Hej!",
        "",
        f"Här är samtalet du hade med {ORGANISATION} i chatten"
        + (f" den {swedish_day(first_day)}." if first_day else "."),
    ]
    day: dt.date | None = None
    for line in shown:
        local = line.at.astimezone(zone)
        if local.date() != day:
            day = local.date()
            out += ["", f"— {swedish_day(day)} —"]
        text = (line.text or "").strip()
        if line.buttons:
            text = (text + "\n" if text else "") + "[Knappar: " + " · ".join(line.buttons) + "]"
        body = text.replace("\r\n", "\n").split("\n")
        out.append(f"{local:%H:%M}  {speaker(line)}: {body[0]}")
        out.extend(f"       {rest}" for rest in body[1:])
    out += [
        "",
        "Har du fler frågor är du välkommen tillbaka i chatten.",
        "",
        "Vänliga hälsningar",
        ORGANISATION,
    ]
    return Mail(subject, "\n".join(out) + "\n")

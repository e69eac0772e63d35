"""Every Swedish word the Teams channel adds to what the core says.

The core's own notices (bot/texts.py) are sent as they are; Teams has no status bar like
the widget, so the queue position and the expected wait are written into the message,
the advisor's name is put in front of their replies (every message in Teams comes from
the bot), and the widget's offline form becomes a card.
"""

from __future__ import annotations

# Payloads of our own buttons that the gateway handles (never sent to Rasa).
CANCEL_HANDOFF = "gateway:cancel_handoff"

LEAVE_QUEUE_BUTTON = {"title": "Lämna kön", "payload": CANCEL_HANDOFF}
NO_THANKS_BUTTON = {"title": "Nej tack", "payload": CANCEL_HANDOFF}


def queue_place(position: object, wait_text: object) -> str:
    place = f"Du är nummer {position} i kön." if isinstance(position, int) else ""
    wait = f" Beräknad väntetid: {wait_text}." if isinstance(wait_text, str) and wait_text else ""
    return (place + wait).strip()


def advisor_heading(name: str | None) -> str:
    return f"{name}, rådgivare:" if name else "Rådgivare:"


# The offline form (an Adaptive Card).
TICKET_TITLE = "Lämna din fråga"
TICKET_QUESTION = "Din fråga"
TICKET_QUESTION_MISSING = "Skriv din fråga."
TICKET_CONTACT = "E-postadress eller telefonnummer"
TICKET_CONTACT_INVALID = "Ange en e-postadress eller ett telefonnummer så att vi kan nå dig."
TICKET_NAME = "Namn (frivilligt)"
TICKET_COMPANY = "Företag (frivilligt)"
TICKET_SEND = "Skicka frågan"

# Errors for programs (the Bot Connector), in the gateway's JSON error shape.
UNAUTHORIZED = "Förfrågan kunde inte verifieras som ett meddelande från Microsoft Teams."
KEYS_UNAVAILABLE = "Microsofts signeringsnycklar kunde inte hämtas just nu. Försök igen om en stund."

"""What the Slack channel itself says to a company (Swedish), beyond the core's texts."""

from __future__ import annotations

ADVISOR = "rådgivare"
IMAGE = "Bild"


def queue_place(position: int, wait_text: str | None) -> str:
    place = f"Du är nummer {position} i kön."
    return f"{place} Beräknad väntetid: {wait_text}." if wait_text else place


def advisor_joined(name: str) -> str:
    return f"{name} har anslutit till chatten. Du chattar nu med en rådgivare."


def advisor_line(name: str) -> str:
    return f"{name}, {ADVISOR}"


# Answers to a Slack message the gateway cannot take (shown only to its writer).
def too_long(max_chars: int) -> str:
    return (
        f"Ditt meddelande är för långt och har inte skickats vidare. Du kan skriva högst "
        f"{max_chars} tecken. Dela gärna upp det i flera meddelanden."
    )


# The question form outside opening hours (a Slack modal instead of the widget's form).
TICKET_BUTTON = "Lämna en fråga"
TICKET_TITLE = "Lämna en fråga"
TICKET_SUBMIT = "Skicka"
TICKET_CLOSE = "Avbryt"
TICKET_INTRO = (
    "Skriv din fråga och hur vi når dig, så hör en rådgivare av sig när vi har öppet. "
    "Ange e-postadress eller telefonnummer."
)
TICKET_QUESTION = "Din fråga"
TICKET_NAME = "Namn"
TICKET_COMPANY = "Företag"
TICKET_EMAIL = "E-postadress"
TICKET_PHONE = "Telefonnummer"
TICKET_EXPIRED = "Chatten finns inte längre. Skriv ett nytt meddelande till assistenten."

"""The Swedish words of the advisor's inbox (the console's own errors and notices)."""

from __future__ import annotations

from collections.abc import Iterable

INVALID_PRESENCE = "Välj Tillgänglig eller Borta."
INVALID_MAX_CHATS = "Ange hur många chattar du kan ha samtidigt (1–{limit})."
INVALID_EMAIL = "Ange en giltig e-postadress."
EMAIL_NOT_CONFIGURED = "E-post är inte inställt för konsolen, så samtalet kan inte skickas."
CANNED_NOT_FOUND = "Snabbsvaret finns inte."
CANNED_TITLE_MISSING = "Ge snabbsvaret en rubrik."
CANNED_BODY_MISSING = "Skriv snabbsvarets text."
TRANSFER_ADVISOR_MISSING = "Välj en kollega att lämna över till."
NLU_UNAVAILABLE = "Förslaget kan inte tas fram just nu: den digitala assistenten svarar inte."
NO_QUESTION = "Företaget har inte skrivit något som assistenten kan hänvisa utifrån."
NO_REFERRAL = "Assistenten hittar ingen hänvisning för frågan."
BAD_DATE = "Ange datum som ÅÅÅÅ-MM-DD."


def unknown_placeholders(names: Iterable[str], known: Iterable[str]) -> str:
    wrong = ", ".join("{" + n + "}" for n in names)
    right = ", ".join("{" + n + "}" for n in known)
    return f"Okänd platshållare {wrong}. Använd {right}."
INVALID_OUTCOME_FILTER = "Okänt utfall."
BAD_FILTER = "Sökningen kunde inte tolkas."

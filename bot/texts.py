"""Every Swedish word the gateway itself says to a company or an advisor."""

from __future__ import annotations

GREETING = (
    "Hej! Jag är Västmanlands Företagssupports digitala assistent. Berätta vad ditt "
    "företag behöver hjälp med, så visar jag vart du kan vända dig. Vill du hellre "
    "prata med en rådgivare går det också bra."
)

# Errors
BAD_REQUEST = "Förfrågan kunde inte tolkas."
BAD_CLIENT_ID = "Meddelandet saknar ett giltigt id."
HELLO_REQUIRED = "Anslutningen måste börja med ett hello-meddelande."
EMPTY_MESSAGE = "Meddelandet är tomt."
RATE_LIMITED = "Du skickar meddelanden för snabbt. Vänta några sekunder och försök igen."
TOO_MANY_LOGINS = "För många misslyckade inloggningar. Vänta en stund och försök igen."
INVALID_CREDENTIALS = "Fel e-postadress eller lösenord."
NOT_AUTHENTICATED = "Du måste logga in."
ADMIN_ONLY = "Den här sidan är bara för administratörer. Be en administratör om behörighet om du behöver den."
CSRF_FAILED = "Sidan har blivit inaktuell. Ladda om sidan och försök igen."
FORBIDDEN_ORIGIN = "Förfrågan kommer från en webbplats som inte är tillåten."
NOT_FOUND = "Chatten finns inte."
TICKET_NOT_FOUND = "Ärendet finns inte."
PAGE_NOT_FOUND = "Sidan finns inte."
NOT_OWNER = "Du har inte den här chatten."
NOT_CLAIMABLE = "Chatten kan inte tas just nu."
INVALID_OUTCOME = "Välj ett utfall för chatten."
SERVER_ERROR = "Något gick fel hos oss. Försök igen om en stund."
BAD_SENDER = "Fältet sender måste vara en text på 1–128 tecken utan styrtecken."
TOO_LARGE = "Förfrågan är för stor."
TOO_DEEP = "Förfrågan är för djupt nästlad."
BAD_ENCODING = "Förfrågan är inte giltig UTF-8."
TOO_MANY_REQUESTS = "Det kommer för många förfrågningar just nu. Vänta några sekunder och försök igen."
TOO_MANY_HANDOFFS = "Du har redan bett om en rådgivare flera gånger. Vänta en stund innan du frågar igen."
TOO_MANY_CONNECTIONS = "För många öppna chattar från samma adress."


def login_throttled(seconds: int) -> str:
    return f"För många misslyckade inloggningar. Vänta {seconds} sekunder och försök igen."

TICKET_INVALID = "Kontrollera uppgifterna i formuläret."
TICKET_QUESTION_MISSING = "Skriv din fråga."
TICKET_EMAIL_INVALID = "Ange en giltig e-postadress."
TICKET_PHONE_INVALID = "Ange ett giltigt telefonnummer."
TICKET_CONTACT_MISSING = "Ange e-postadress eller telefonnummer så att vi kan nå dig."


def message_too_long(max_chars: int) -> str:
    return f"Meddelandet är för långt. Du kan skriva högst {max_chars} tecken."


def at_capacity(limit: int) -> str:
    chats = "en chatt" if limit == 1 else f"{limit} chattar"
    return (
        f"Du har redan {chats}, så många du kan ha samtidigt. "
        "Avsluta eller lämna över en chatt först."
    )


TRANSFER_TO_SELF = "Du har redan chatten. Välj en kollega att lämna över till."
TRANSFER_UNKNOWN_ADVISOR = "Rådgivaren finns inte."


def transfer_not_available(name: str) -> str:
    return f"{name} är inte tillgänglig just nu. Välj en kollega som är inloggad och tillgänglig."


def transfer_full(name: str, limit: int) -> str:
    return f"{name} har redan {limit} chattar, så många hen kan ha samtidigt."


def transfer_note(sender: str, receiver: str, note: str | None) -> str:
    text = f"{sender} lämnade över chatten till {receiver}."
    return f"{text}\n{note}" if note else text


def already_claimed(name: str | None) -> str:
    if name:
        return f"Chatten har redan tagits av {name}."
    return "Chatten har redan tagits av en annan rådgivare."


# System messages in the conversation
QUEUED = "Du är nu i kö för att chatta med en rådgivare. Du kan fortsätta skriva medan du väntar."
LEFT_QUEUE = "Du har lämnat kön. Du chattar nu med den digitala assistenten igen."
ABANDONED_QUEUE = (
    "Du var borta en stund, så chatten lämnade kön. Du chattar nu med den digitala "
    "assistenten igen. Vill du prata med en rådgivare kan du be om det igen."
)
DECLINED_TICKET = "Okej! Fråga gärna den digitala assistenten vidare."
ADVISOR_LOST = "Rådgivaren tappade anslutningen. Du är tillbaka först i kön."
ADVISOR_RELEASED = "Rådgivaren har lämnat chatten. Du är tillbaka först i kön."
HANDED_BACK = "Du chattar nu med den digitala assistenten igen."
CLOSED = "Rådgivaren har avslutat chatten. Tack för att du hörde av dig! Skriv gärna igen om du undrar något mer."
BOT_UNAVAILABLE = (
    "Den digitala assistenten svarar inte just nu. Ditt meddelande är sparat. "
    "Försök igen om en stund eller prata med en rådgivare."
)
REQUEST_ADVISOR_BUTTON = {"title": "Prata med en rådgivare", "payload": "gateway:request_advisor"}
TICKET_THANKS = (
    "Tack! Vi har tagit emot din fråga och återkommer så snart vi har öppet igen, "
    "till den e-postadress eller det telefonnummer du angav."
)


def advisor_joined(name: str) -> str:
    return f"{name} har anslutit till chatten."


def offline(hours_text: str, opens_text: str | None) -> str:
    when = f" Vi öppnar igen {opens_text}." if opens_text else ""
    return (
        f"Just nu är våra rådgivare inte på plats (vi har öppet {hours_text}).{when} "
        "Lämna din fråga och dina kontaktuppgifter så hör vi av oss."
    )

# Privacy
PERSONAL_NUMBER_REMOVED = (
    "Av integritetsskäl sparar vi inte personnummer eller samordningsnummer. Numret du "
    "skrev har tagits bort från chatten och skickas inte vidare. Du behöver inte uppge "
    "det för att få hjälp."
)
CHAT_ERASED = "Din chatt är raderad. Allt du skrev och alla svar är borttagna hos oss."

# Satisfaction after a human chat (CSAT)
CSAT_QUESTION = (
    "Hur nöjd är du med hjälpen du fick av rådgivaren? Välj ett betyg från 1 (inte alls nöjd) "
    "till 5 (mycket nöjd)."
)
CSAT_BUTTON_TITLES = {1: "1 – Inte alls nöjd", 2: "2", 3: "3", 4: "4", 5: "5 – Mycket nöjd"}
CSAT_THANKS = (
    "Tack för ditt betyg! Vill du lägga till en kommentar kan du skriva den i nästa meddelande "
    "– det är frivilligt."
)
CSAT_COMMENT_THANKS = "Tack för din kommentar!"

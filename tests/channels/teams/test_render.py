"""What a company in Teams receives for each kind of stored message (pure rendering)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot import texts as core_texts
from bot.channels.teams.activity import Address
from bot.channels.teams.render import ADAPTIVE_CARD, CONTACT_PATTERN, HERO_CARD, render
from bot.conversation.outbox import Outgoing

ADDRESS = Address(
    service_url="https://smba.trafficmanager.net/emea/",
    conversation_id="a:1conversation",
    bot_id="28:bot-app-id",
    bot_name="Företagssupporten",
    user_id="29:1user",
    user_name="Eva Ek",
    tenant_id="tenant-guid",
)


def outgoing(role: str = "bot", text: str | None = "Hej!", **changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "id": 1, "seq": 2, "role": role, "text": text, "buttons": [], "image": None, "author": None,
        "notice": None, "reply_to_client_id": None, "created_at": dt.datetime(2026, 11, 24, 9, 0),
    }
    values.update(changes)
    return Outgoing(**values)


def test_a_bot_reply_is_a_plain_text_message_from_the_bot_in_the_conversation() -> None:
    activity = render(outgoing(reply_to_client_id="1481567603816"), ADDRESS)
    assert activity["type"] == "message"
    assert activity["text"] == "Hej!"
    assert activity["textFormat"] == "plain"
    assert activity["from"] == {"id": "28:bot-app-id", "name": "Företagssupporten"}
    assert activity["recipient"] == {"id": "29:1user", "name": "Eva Ek"}
    assert activity["conversation"] == {"id": "a:1conversation", "tenantId": "tenant-guid"}
    assert activity["replyToId"] == "1481567603816"
    assert "attachments" not in activity


def test_buttons_are_message_back_actions_carrying_the_payload() -> None:
    buttons = [{"title": "Kontaktuppgifter", "payload": "/ask_contact"},
               {"title": "Prata med en rådgivare", "payload": "/request_human"}]
    activity = render(outgoing(text="Almi kan hjälpa er.", buttons=buttons), ADDRESS)
    [card] = activity["attachments"]
    assert card["contentType"] == HERO_CARD
    assert card["content"]["buttons"] == [
        {"type": "messageBack", "title": "Kontaktuppgifter", "text": "Kontaktuppgifter",
         "displayText": "Kontaktuppgifter", "value": {"payload": "/ask_contact"}},
        {"type": "messageBack", "title": "Prata med en rådgivare", "text": "Prata med en rådgivare",
         "displayText": "Prata med en rådgivare", "value": {"payload": "/request_human"}},
    ]
    # The card carries no text of its own (card text would be read as XML).
    assert "text" not in card["content"]
    assert activity["text"] == "Almi kan hjälpa er."


def test_markup_in_user_or_advisor_text_stays_text() -> None:
    text = "<at>Alla</at> **fet** [klicka](https://evil.example) <script>x</script> &amp;"
    activity = render(outgoing("advisor", text, author="Anna <b>Berg</b>"), ADDRESS)
    assert activity["textFormat"] == "plain"
    assert activity["text"] == f"Anna <b>Berg</b>, rådgivare:\n{text}"
    assert "entities" not in activity  # no mention is ever built


def test_advisor_replies_name_the_advisor_and_are_not_replies_to_a_message() -> None:
    activity = render(outgoing("advisor", "Hur mycket behöver ni låna?", author="Anna Berg"), ADDRESS)
    assert activity["text"] == "Anna Berg, rådgivare:\nHur mycket behöver ni låna?"
    assert "replyToId" not in activity


def test_the_queue_notice_tells_the_position_and_the_wait_and_offers_to_leave() -> None:
    notice = {"notice": "queued", "position": 2, "expected_wait_minutes": 8, "expected_wait_text": "cirka 8 minuter"}
    activity = render(outgoing("system", core_texts.QUEUED, notice=notice), ADDRESS)
    assert activity["text"] == (
        f"{core_texts.QUEUED}\n\nDu är nummer 2 i kön. Beräknad väntetid: cirka 8 minuter."
    )
    [card] = activity["attachments"]
    assert [b["title"] for b in card["content"]["buttons"]] == ["Lämna kön"]
    assert card["content"]["buttons"][0]["value"] == {"payload": "gateway:cancel_handoff"}


def test_the_advisor_joined_and_hand_back_notices_are_sent_as_they_are() -> None:
    joined = render(outgoing("system", core_texts.advisor_joined("Anna Berg"),
                             notice={"notice": "advisor_joined", "advisor": "Anna Berg"}), ADDRESS)
    back = render(outgoing("system", core_texts.HANDED_BACK, notice={"notice": "handed_back"}), ADDRESS)
    assert joined["text"] == "Anna Berg har anslutit till chatten."
    assert back["text"] == "Du chattar nu med den digitala assistenten igen."


def test_bot_unavailable_keeps_its_advisor_button() -> None:
    activity = render(outgoing("system", core_texts.BOT_UNAVAILABLE, notice={"notice": "bot_unavailable"},
                               buttons=[dict(core_texts.REQUEST_ADVISOR_BUTTON)]), ADDRESS)
    [button] = activity["attachments"][0]["content"]["buttons"]
    assert button["title"] == "Prata med en rådgivare"
    assert button["value"] == {"payload": "gateway:request_advisor"}


def test_outside_opening_hours_the_notice_brings_the_question_form() -> None:
    activity = render(outgoing("system", "Just nu är våra rådgivare inte på plats.", notice={"notice": "offline"}),
                      ADDRESS, max_chars=2000)
    hero, form = activity["attachments"]
    assert [b["title"] for b in hero["content"]["buttons"]] == ["Nej tack"]
    assert form["contentType"] == ADAPTIVE_CARD
    card = form["content"]
    inputs = {element["id"]: element for element in card["body"] if element["type"] == "Input.Text"}
    assert set(inputs) == {"question", "contact", "name", "company"}
    assert inputs["question"]["isRequired"] and inputs["question"]["maxLength"] == 2000
    assert inputs["contact"]["isRequired"]
    assert card["actions"] == [{"type": "Action.Submit", "title": "Skicka frågan", "data": {"action": "ticket"}}]


def test_the_contact_field_takes_an_email_or_a_phone_number() -> None:
    pattern = re.compile(CONTACT_PATTERN)
    for good in ("eva@ekbygg.se", "070-123 45 67", "+46 (0)21 12 34 56"):
        assert pattern.match(good), good
    for bad in ("", "eva", "ring mig", "eva@", "12"):
        assert not pattern.match(bad), bad


def test_an_image_goes_in_the_card() -> None:
    activity = render(outgoing(text=None, image="https://example.se/karta.png"), ADDRESS)
    assert "text" not in activity
    assert activity["attachments"][0]["content"] == {"images": [{"url": "https://example.se/karta.png"}]}

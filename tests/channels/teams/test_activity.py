"""Reading Teams Activities and deciding which serviceUrls may get the bot's token."""

from __future__ import annotations

import pytest

from bench.fake_botframework import BOT_ID, FakeBotFramework
from bot.channels.teams.activity import (
    Address,
    BadActivity,
    address,
    bot_was_added,
    clicked_payload,
    external_id,
    message_text,
    parse,
)
from bot.channels.teams.service_urls import is_allowed

ALLOWED = ("https://smba.trafficmanager.net/",)


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/amer-client-ss.msg/",
        "https://SMBA.trafficmanager.net:443/teams/",
    ],
)
def test_teams_service_urls_are_allowed(url: str) -> None:
    assert is_allowed(url, ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net.evil.example/emea/",
        "https://smba.trafficmanager.net@evil.example/emea/",
        "https://evil.example/https://smba.trafficmanager.net/",
        "http://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net:8443/emea/",
        "https://smba.trafficmanager.net/emea/?next=https://evil.example",
        "https://smba.trafficmanager.net/emea/../../evil",
        "https://smba.trafficmanager.net\\@evil.example/",
        "javascript:alert(1)",
        "",
        None,
        42,
    ],
)
def test_look_alikes_are_not(url: object) -> None:
    assert not is_allowed(url, ALLOWED)


def test_a_prefix_with_a_path_allows_only_below_it() -> None:
    allowed = ("https://smba.trafficmanager.net/emea",)
    assert is_allowed("https://smba.trafficmanager.net/emea/", allowed)
    assert not is_allowed("https://smba.trafficmanager.net/emea-evil/", allowed)
    assert not is_allowed("https://smba.trafficmanager.net/amer/", allowed)


def test_a_message_is_read_with_its_conversation_and_address() -> None:
    bf = FakeBotFramework()
    bf.base_url = "https://smba.trafficmanager.net"
    activity = parse(bf.message("vi behöver ett lån", activity_id="1481567603816"))
    assert activity.type == "message"
    assert activity.id == "1481567603816"
    assert external_id(activity) == f"{bf.tenant_id}/a:1teams-conversation-eva"
    where = address(activity)
    assert where == Address(
        service_url="https://smba.trafficmanager.net/teams/",
        conversation_id="a:1teams-conversation-eva",
        bot_id=BOT_ID,
        bot_name="Företagssupporten",
        user_id="29:1eva-aad-user",
        user_name="Eva Ek",
        tenant_id=bf.tenant_id,
    )
    assert Address.from_json(where.json()) == where


def test_a_very_long_conversation_key_is_hashed_to_fit() -> None:
    bf = FakeBotFramework()
    activity = parse(bf.message("hej", conversation="19:" + "x" * 400 + "@thread.tacv2"))
    assert len(external_id(activity)) <= 255
    assert external_id(activity).startswith("sha256:")


def test_the_bots_own_mention_is_taken_out_of_the_text() -> None:
    bf = FakeBotFramework()
    activity = parse(bf.message("<at>Företagssupporten</at> vi behöver ett lån"))
    assert message_text(activity).strip() == "vi behöver ett lån"


def test_a_click_carries_our_payload_as_an_object_or_a_json_string() -> None:
    bf = FakeBotFramework()
    assert clicked_payload(parse(bf.message("Kontaktuppgifter", value={"payload": "/ask_contact"}))) == "/ask_contact"
    assert clicked_payload(parse(bf.message("Kontaktuppgifter", value='{"payload": "/ask_contact"}'))) == "/ask_contact"
    assert clicked_payload(parse(bf.message("hej"))) is None
    assert clicked_payload(parse(bf.message("x", value={"payload": "x" * 501}))) is None


def test_only_adding_the_bot_is_a_welcome() -> None:
    bf = FakeBotFramework()
    assert bot_was_added(parse(bf.added()))
    assert not bot_was_added(parse(bf.added(bot=False)))
    assert not bot_was_added(parse(bf.message("hej")))


@pytest.mark.parametrize(
    "body",
    [None, [], "text", {"type": "message"}, {"type": "message", "serviceUrl": "https://x/", "channelId": "msteams"}],
)
def test_malformed_activities_are_refused(body: object) -> None:
    with pytest.raises(BadActivity):
        parse(body)

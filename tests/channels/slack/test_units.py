"""The Slack channel's plain parts: markup both ways, the event parser, rendering within
Slack's limits, what a failed Web API call means, and request verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.fake_slack import BOT_USER, check_blocks
from bot.channels.slack.api import BlocksRefused, failure
from bot.channels.slack.inbound import Click, Ignored, IncomingMessage, Place, parse_clicks, parse_event
from bot.channels.slack.markup import escape, mentions, to_plain, unescape
from bot.channels.slack.render import BUTTON_TEXT_MAX, SECTION_MAX, render
from bot.channels.slack.ticket import field_errors, submitted, ticket_view
from bot.conversation.outbox import Outgoing, RetryLater, Undeliverable

# ------------------------------------------------------------------ markup


def test_escaping_leaves_no_markup_slack_would_act_on() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape("A&amp;B") == "A&amp;amp;B"  # an entity typed by a person stays literal


@given(st.text())
def test_escaped_text_reads_back_as_written(text: str) -> None:
    assert unescape(escape(text)) == text
    assert "<" not in escape(text) and ">" not in escape(text)


@given(st.text(max_size=200))
def test_escaped_text_is_read_back_as_written_apart_from_spacing(text: str) -> None:
    # What we escape has no markup left for the parser: only the spacing is tidied.
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.split("\n")]
    assert to_plain(escape(text)) == "\n".join(lines).strip()


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        (f"<@{BOT_USER}> vi behöver ett lån", "vi behöver ett lån"),
        (f"Hej <@{BOT_USER}|fs>, kan ni hjälpa?", "Hej , kan ni hjälpa?"),
        ("fråga <@U0PER|per> om det", "fråga @per om det"),
        ("se <#C0ABC|ekonomi>", "se #ekonomi"),
        ("<!here> brinner", "@here brinner"),
        ("<!subteam^S0123|@ekonomi> ?", "@ekonomi ?"),
        ("möte <!date^1392734382^{date}|24 feb 2014>", "möte 24 feb 2014"),
        ("<https://almi.se|Almi> och <https://almi.se>", "Almi (https://almi.se) och https://almi.se"),
        ("<mailto:eva@ek.se|eva@ek.se>", "eva@ek.se"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("  rad ett  \n\n  rad två ", "rad ett\n\nrad två"),
    ],
)
def test_slack_text_as_the_person_saw_it(slack: str, plain: str) -> None:
    assert to_plain(slack, BOT_USER) == plain


def test_mentions_of_the_bot_are_recognised_only_as_markup() -> None:
    assert mentions(f"hej <@{BOT_USER}>", BOT_USER)
    assert mentions(f"<@{BOT_USER}|fs> hej", BOT_USER)
    assert not mentions(f"hej &lt;@{BOT_USER}&gt;", BOT_USER)  # typed literally
    assert not mentions("hej <@U0OTHER>", BOT_USER)
    assert not mentions("hej", "")


# ------------------------------------------------------------------ the event parser


def envelope(**event: Any) -> dict[str, Any]:
    base = {"type": "message", "channel": "D0EVA0001", "user": "UEVA00001", "text": "hej",
            "ts": "1700000000.000100", "channel_type": "im"}
    base.update(event)
    return {"type": "event_callback", "event_id": "Ev0001", "team_id": "T0", "event": base}


def test_a_dm_is_one_conversation_per_dm_channel() -> None:
    parsed = parse_event(envelope(thread_ts="1699999999.000001"), BOT_USER)
    assert isinstance(parsed, IncomingMessage)
    assert parsed.place == Place("D0EVA0001", None)
    assert (parsed.place.external_id, parsed.addressed, parsed.ts, parsed.event_id) == (
        "D0EVA0001", True, "1700000000.000100", "Ev0001"
    )


def test_a_mention_starts_a_thread_and_a_reply_continues_it() -> None:
    top = parse_event(envelope(type="app_mention", channel="C0SUP", text=f"<@{BOT_USER}> hej"), BOT_USER)
    reply = parse_event(
        envelope(channel="C0SUP", channel_type="channel", ts="1700000001.000200", thread_ts="1700000000.000100"),
        BOT_USER,
    )
    assert isinstance(top, IncomingMessage) and isinstance(reply, IncomingMessage)
    assert top.place == reply.place == Place("C0SUP", "1700000000.000100")
    assert top.addressed and not reply.addressed
    assert top.text == "hej"


def test_the_two_events_of_one_message_map_to_the_same_conversation_and_id() -> None:
    text = f"<@{BOT_USER}> hej"
    as_im = parse_event(envelope(text=text), BOT_USER)
    as_mention = parse_event(envelope(type="app_mention", text=text, channel_type=None), BOT_USER)
    assert isinstance(as_im, IncomingMessage) and isinstance(as_mention, IncomingMessage)
    assert (as_im.place, as_im.ts, as_im.text) == (as_mention.place, as_mention.ts, as_mention.text)


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_changed"}, {"subtype": "message_deleted"}, {"subtype": "channel_join"},
        {"subtype": "bot_message"}, {"bot_id": "B1"}, {"user": BOT_USER}, {"hidden": True},
        {"type": "reaction_added"}, {"channel": None}, {"ts": "1700000000"}, {"user": "u-lower"},
    ],
)
def test_what_is_not_a_persons_message_is_ignored(change: dict[str, Any]) -> None:
    assert isinstance(parse_event(envelope(**change), BOT_USER), Ignored)


def test_a_thread_broadcast_is_still_a_persons_message() -> None:
    assert isinstance(parse_event(envelope(subtype="thread_broadcast"), BOT_USER), IncomingMessage)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message", "app_mention", "reaction_added"]) | st.text(max_size=5),
        "subtype": st.none() | st.sampled_from(["thread_broadcast", "message_changed"]),
        "user": st.none() | st.sampled_from(["UEVA00001", BOT_USER]) | st.text(max_size=10),
        "channel": st.sampled_from(["D0EVA0001", "C0SUP", "G0GRP"]) | st.text(max_size=10),
        "ts": st.sampled_from(["1700000000.000100"]) | st.text(max_size=20),
        "thread_ts": st.none() | st.sampled_from(["1699999999.000001"]) | st.text(max_size=20),
        "text": st.text(max_size=80) | json_values,
        "bot_id": st.none() | st.text(max_size=5),
    },
)


@settings(max_examples=300, deadline=None)
@given(event=event_like | json_values, event_id=json_values)
def test_any_event_is_parsed_or_ignored_never_an_error(event: Any, event_id: Any) -> None:
    parsed = parse_event({"type": "event_callback", "event_id": event_id, "event": event}, BOT_USER)
    assert isinstance(parsed, IncomingMessage | Ignored)
    if isinstance(parsed, IncomingMessage):
        assert parsed.user != BOT_USER
        assert f"<@{BOT_USER}>" not in parsed.text
        assert parsed.place.is_dm == parsed.place.channel.startswith("D")
        assert parsed.event_id is None or isinstance(parsed.event_id, str)


@settings(max_examples=200, deadline=None)
@given(payload=json_values)
def test_any_interaction_is_parsed_or_ignored_never_an_error(payload: Any) -> None:
    if isinstance(payload, dict):
        payload["type"] = "block_actions"
        result = parse_clicks(payload)
        assert isinstance(result, list | Ignored)


def test_a_click_in_a_thread_belongs_to_the_thread() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "UEVA00001"},
        "channel": {"id": "C0SUP"},
        "container": {"type": "message", "message_ts": "1700000002.000300", "thread_ts": "1700000000.000100"},
        "message": {"ts": "1700000002.000300", "thread_ts": "1700000000.000100"},
        "trigger_id": "t1",
        "actions": [{"type": "button", "action_id": "fs_reply_0", "value": "/ask_contact",
                     "text": {"type": "plain_text", "text": "Kontaktuppgifter"}, "action_ts": "1700000003.000400"}],
    }
    (click,) = parse_clicks(payload)  # type: ignore[misc]
    assert click == Click("UEVA00001", Place("C0SUP", "1700000000.000100"), "fs_reply_0", "1700000003.000400",
                          "Kontaktuppgifter", "/ask_contact", "t1")


# ------------------------------------------------------------------ rendering


def outgoing(role: str = "bot", text: str | None = "Hej", buttons: list[dict[str, str]] | None = None,
             notice: dict[str, Any] | None = None, author: str | None = None, image: str | None = None) -> Outgoing:
    return Outgoing(id=7, seq=2, role=role, text=text, buttons=buttons or [], image=image, author=author,
                    notice=notice, reply_to_client_id=None, created_at=dt.datetime.now(dt.timezone.utc))


def test_a_bot_reply_is_text_and_buttons_whose_values_are_the_payloads() -> None:
    rendered = render(outgoing(text="Almi <b>", buttons=[{"title": "Kontakt", "payload": "/ask_contact"}]))
    assert rendered.text == "Almi &lt;b&gt;"
    section, actions = rendered.blocks
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": "Almi &lt;b&gt;"}}
    assert actions["elements"][0]["value"] == "/ask_contact"
    assert actions["elements"][0]["text"]["text"] == "Kontakt"


def test_long_texts_and_many_buttons_stay_within_slacks_limits() -> None:
    text = ("Ett stycke om företagsstöd & lån. " * 40 + "\n") * 10  # ~13,000 characters with entities
    buttons = [{"title": f"Alternativ {n} " + "mycket lång rubrik " * 6, "payload": f"/choose{{\"n\": {n}}}"}
               for n in range(12)]
    rendered = render(outgoing(text=text, buttons=buttons))
    assert check_blocks(rendered.blocks) == []
    sections = [b for b in rendered.blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= SECTION_MAX for b in sections)
    assert unescape("".join(b["text"]["text"] for b in sections)).split() == text.split()  # nothing lost
    rows = [b for b in rendered.blocks if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [5, 5, 2]
    titles = [e["text"]["text"] for r in rows for e in r["elements"]]
    assert all(len(t) <= BUTTON_TEXT_MAX for t in titles) and titles[0].endswith("…")


@given(st.text(min_size=1, max_size=9000))
@settings(max_examples=60, deadline=None)
def test_any_text_renders_within_the_limits_without_loss(text: str) -> None:
    rendered = render(outgoing(text=text))
    assert check_blocks(rendered.blocks) == []
    shown = "".join(b["text"]["text"] for b in rendered.blocks)
    assert "".join(unescape(shown).split()) == "".join(text.split())


def test_an_advisor_reply_names_the_advisor() -> None:
    rendered = render(outgoing(role="advisor", text="Hej Eva!", author="Anna Berg"))
    assert rendered.text == "Anna Berg: Hej Eva!"
    header, body = rendered.blocks
    assert header["elements"][0]["text"] == "*Anna Berg, rådgivare*"
    assert body["text"]["text"] == "Hej Eva!"


def test_the_queue_notice_gives_the_position_and_the_expected_wait() -> None:
    notice = {"notice": "queued", "position": 2, "expected_wait_minutes": 12, "expected_wait_text": "cirka 12 minuter"}
    rendered = render(outgoing(role="system", text="Du är nu i kö för att chatta med en rådgivare.", notice=notice))
    (context,) = rendered.blocks
    assert context["type"] == "context"
    assert context["elements"][0]["text"] == (
        ":hourglass_flowing_sand: Du är nu i kö för att chatta med en rådgivare.\n"
        "Du är nummer 2 i kön. Beräknad väntetid: cirka 12 minuter."
    )


def test_the_advisor_joined_notice_names_the_advisor_escaped() -> None:
    notice = {"notice": "advisor_joined", "advisor": "Anna <Berg>"}
    rendered = render(outgoing(role="system", text="Anna <Berg> har anslutit till chatten.", notice=notice))
    assert rendered.blocks[0]["elements"][0]["text"] == (
        ":wave: *Anna &lt;Berg&gt;* har anslutit till chatten. Du chattar nu med en rådgivare."
    )


def test_the_offline_notice_offers_the_question_form() -> None:
    text = "Just nu är våra rådgivare inte på plats."
    rendered = render(outgoing(role="system", text=text, notice={"notice": "offline"}))
    assert rendered.blocks[-1]["elements"][0]["action_id"] == "fs_ticket"
    assert check_blocks(rendered.blocks) == []


def test_a_message_with_nothing_to_show_renders_empty() -> None:
    rendered = render(outgoing(text=None))
    assert (rendered.text, rendered.blocks) == ("", [])


# ------------------------------------------------------------------ what a failed call means


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "meaning"),
    [
        (429, "ratelimited", "30", (RetryLater, 30.0)),
        (429, None, None, (RetryLater, None)),
        (200, "service_unavailable", None, (RetryLater, None)),
        (503, None, "5", (RetryLater, 5.0)),
        (502, None, None, (RetryLater, None)),
        (200, "invalid_auth", None, (RetryLater, 60.0)),
        (200, "missing_scope", None, (RetryLater, 60.0)),
        (200, "internal_error", None, None),
        (500, None, None, None),
        (200, "channel_not_found", None, (Undeliverable, None)),
        (200, "not_in_channel", None, (Undeliverable, None)),
        (200, "is_archived", None, (Undeliverable, None)),
        (404, None, None, (Undeliverable, None)),
        (200, "invalid_blocks", None, (BlocksRefused, None)),
    ],
)
def test_what_a_failed_call_means(status: int, error: str | None, retry_after: str | None, meaning: Any) -> None:
    result = failure(status, error, retry_after)
    if meaning is None:
        assert result is None  # uncertain: look it up before trying again
        return
    kind, after = meaning
    assert isinstance(result, kind)
    if isinstance(result, RetryLater):
        assert result.after == after


def test_an_absurd_retry_after_is_not_trusted() -> None:
    assert failure(429, "ratelimited", "999999").after is None  # type: ignore[union-attr]
    assert failure(429, "ratelimited", "soon").after is None  # type: ignore[union-attr]


# ------------------------------------------------------------------ verification


class Runtime:
    """Only the verifier of the Slack runtime."""

    def __init__(self, secret: str) -> None:
        from slack_sdk.signature import SignatureVerifier

        from bot.channels.slack.runtime import SlackRuntime

        self.verifier = SignatureVerifier(secret)
        self.verified = SlackRuntime.verified.__get__(self)


def signed(secret: str, body: bytes, stamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": f"v0={digest}"}


def test_slacks_v0_signature_is_checked_on_the_raw_body_within_five_minutes() -> None:
    runtime = Runtime("hemlig")
    body = json.dumps({"type": "event_callback", "text": "åäö"}).encode()
    now = int(time.time())
    assert runtime.verified(body, signed("hemlig", body, now))
    assert runtime.verified(body, signed("hemlig", body, now - 290))
    assert not runtime.verified(body, signed("hemlig", body, now - 310))
    assert not runtime.verified(body, signed("hemlig", body, now + 310))
    assert not runtime.verified(body, signed("annan", body, now))
    assert not runtime.verified(body + b" ", signed("hemlig", body, now))
    assert not runtime.verified(b"\xff\xfe", signed("hemlig", b"\xff\xfe", now))  # not UTF-8
    assert not runtime.verified(body, {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"})
    assert not runtime.verified(body, {})


# ------------------------------------------------------------------ the question form


def test_the_question_form_round_trip() -> None:
    view = ticket_view("D0EVA0001", 2000, name="Eva Ek")
    assert view["private_metadata"] == "D0EVA0001"
    assert len(view["title"]["text"]) <= 24
    payload = {"type": "view_submission", "view": {**view, "id": "V1", "state": {"values": {
        "question": {"value": {"value": "Kan vi få stöd?"}}, "email": {"value": {"value": "eva@ek.se"}}}}}}
    assert submitted(payload) == ("V1", "D0EVA0001", {"question": "Kan vi få stöd?", "name": "", "company": "",
                                                      "email": "eva@ek.se", "phone": ""})
    assert submitted({"type": "view_submission", "view": {"callback_id": "other"}}) is None
    assert field_errors({"email": "Fel", "form": "x"}, "?") == {"response_action": "errors", "errors": {"email": "Fel"}}


# ------------------------------------------------------------------ the app manifest


def test_the_app_manifest_matches_the_gateway() -> None:
    """The manifest an admin installs asks for the events the parser handles, the scopes
    of every Web API method the channel calls, and the gateway's two request URLs."""
    import yaml

    from bot.channels.slack import CHANNEL
    from core.settings import PROJECT_ROOT

    manifest = yaml.safe_load((PROJECT_ROOT / "deploy" / "slack-app-manifest.yml").read_text())
    settings_part = manifest["settings"]
    assert settings_part["event_subscriptions"]["request_url"].endswith("/webhooks/slack/events")
    assert settings_part["interactivity"]["request_url"].endswith("/webhooks/slack/interactive")
    assert settings_part["interactivity"]["is_enabled"] is True
    assert set(settings_part["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "message.channels", "message.groups", "message.mpim"
    }
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {
        "chat.postMessage": {"chat:write"},
        "chat.postEphemeral": {"chat:write"},
        "users.info": {"users:read"},
        "conversations.history": {"im:history"},  # DMs only: threads use replies
        "conversations.replies": {"channels:history", "groups:history", "mpim:history"},
        "app_mention": {"app_mentions:read"},
    }
    assert set().union(*needed.values()) == scopes  # all needed, none more
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert CHANNEL.label == "Slack"

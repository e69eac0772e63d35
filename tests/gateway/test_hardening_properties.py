"""Property-based tests (hypothesis) for every parser of what arrives from outside: JSON
bodies and frames, text cleaning, ids, Slack events and clicks, Teams activities, Rasa's
replies and the forwarded client address. Whatever the input, each parser answers with a
value or its own refusal, never with an unexpected exception."""

from __future__ import annotations

import contextlib
import json
import string
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.slack.inbound import Ignored, IncomingMessage, parse_clicks, parse_event
from bot.channels.teams.activity import Activity, BadActivity, parse
from bot.rules import validation
from bot.rules.payload import MAX_DEPTH, PayloadError, nesting_depth, parse_json
from bot.rules.queue import judge_turn, public_reply
from bot.rules.ratelimit import BucketMap, LoginPolicy, TokenBucket
from bot.rules.validation import Invalid
from bot.web.limits import client_address, parse_networks
from bot.web.socket import decode_frame
from tests.hostile import visible

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)
# Text heavy in what breaks parsers: brackets, quotes, escapes, controls, bidi and zero-width.
nasty_text = st.text(
    alphabet=st.sampled_from('[]{}"\\:,0123456789 aé\u0000\u0007\n\r\t\u202e\u2066\u200b\ufeff\u061c\U0001f44d')
    | st.characters(),
    max_size=300,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@PROPERTY
@given(json_values)
def test_nesting_depth_is_the_depth_of_any_json_value(value: Any) -> None:
    assert nesting_depth(json.dumps(value)) == depth_of(value)
    assert nesting_depth(json.dumps(value, ensure_ascii=False)) == depth_of(value)


@PROPERTY
@given(json_values)
def test_parse_json_gives_back_every_value_within_the_bounds(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=False)
    assert parse_json(raw.encode(), 1_000_000) == value


@PROPERTY
@given(st.one_of(nasty_text, st.binary(max_size=300)), st.integers(1, 400))
def test_parse_json_answers_a_value_or_a_refusal(raw: str | bytes, max_bytes: int) -> None:
    try:
        parse_json(raw, max_bytes)
    except PayloadError as exc:
        assert exc.reason in {"too_large", "bad_encoding", "too_deep", "bad_json"}


@PROPERTY
@given(st.integers(MAX_DEPTH + 1, 20_000), st.sampled_from(["[", '{"k":']))
def test_deep_nesting_is_refused_before_the_parser_recurses(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    raw = opener * depth + ("1" if opener != "[" else "") + closer * depth
    with pytest.raises(PayloadError) as refused:
        parse_json(raw, 10_000_000)
    assert refused.value.reason == "too_deep"


@PROPERTY
@given(st.one_of(nasty_text, st.binary(max_size=100), st.none(), st.integers()))
def test_decode_frame_returns_an_object_or_none(raw: object) -> None:
    frame = decode_frame(raw)
    assert frame is None or isinstance(frame, dict)


@PROPERTY
@given(nasty_text, st.integers(1, 400))
def test_clean_text_leaves_only_visible_trimmed_text(raw: str, max_chars: int) -> None:
    try:
        text = validation.clean_text(raw, max_chars)
    except Invalid as exc:
        assert exc.code in {"empty_message", "message_too_long"}
        return
    assert text and text == text.strip() and len(text) <= max_chars
    assert visible(text)
    assert validation.clean_text(text, max_chars) == text  # cleaning twice changes nothing


@PROPERTY
@given(st.one_of(nasty_text, st.none(), st.integers()), st.integers(0, 300))
def test_clean_line_is_one_visible_line(raw: object, max_chars: int) -> None:
    try:
        line = validation.clean_line(raw, max_chars)
    except Invalid:
        assert not isinstance(raw, str) and raw is not None
        return
    assert "\n" not in line and "\t" not in line and len(line) <= max_chars and visible(line)


@PROPERTY
@given(st.one_of(nasty_text, st.none(), st.integers()))
def test_a_rest_sender_is_printable_or_refused(raw: object) -> None:
    try:
        sender = validation.sender_id(raw)
    except Invalid as exc:
        assert exc.code == "bad_request"
        return
    assert 0 < len(sender) <= 128 and sender.isprintable()


@PROPERTY
@given(st.one_of(st.text(alphabet=string.ascii_letters + string.digits + "_-\u0000 ", max_size=80), st.none()))
def test_a_client_id_is_safe_or_refused(raw: object) -> None:
    try:
        value = validation.client_id(raw)
    except Invalid:
        return
    assert 8 <= len(value) <= 64 and value.isascii() and value.isprintable() and " " not in value


@PROPERTY
@given(st.dictionaries(st.sampled_from(["name", "company", "email", "phone", "question"]),
                       st.one_of(nasty_text, st.none(), st.integers())))
def test_the_ticket_form_is_valid_or_every_problem_is_named(data: dict[str, object]) -> None:
    try:
        form = validation.ticket_form(data, 500)
    except Invalid as exc:
        assert exc.code == "invalid_ticket" and exc.fields
        return
    assert all(visible(v) for v in (form.name, form.company, form.email, form.phone, form.question))


slack_events = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "x"]), "team_id": st.text(max_size=5)},
    optional={
        "event_id": st.one_of(st.text(max_size=12), st.integers()),
        "event": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"type": st.sampled_from(["message", "app_mention"])},
                optional={
                    "channel": st.one_of(st.text(max_size=12), st.integers()),
                    "user": st.one_of(st.text(max_size=12), st.none()),
                    "text": nasty_text,
                    "ts": st.one_of(st.text(max_size=20), st.just("1700000000.000100")),
                    "thread_ts": st.one_of(st.text(max_size=20), st.none()),
                    "channel_type": st.sampled_from(["im", "channel", "mpim"]),
                    "subtype": st.sampled_from(["bot_message", "message_changed", "file_share"]),
                    "bot_id": st.text(max_size=5),
                },
            ),
        ),
    },
)


@PROPERTY
@given(slack_events)
def test_a_slack_event_is_a_message_or_ignored(envelope: dict[str, Any]) -> None:
    parsed = parse_event(envelope, "UBOT")
    assert isinstance(parsed, IncomingMessage | Ignored)


@PROPERTY
@given(st.dictionaries(st.sampled_from(["type", "actions", "user", "channel", "container", "message"]), json_values))
def test_slack_clicks_are_clicks_or_ignored(payload: dict[str, Any]) -> None:
    parsed = parse_clicks(payload)
    assert isinstance(parsed, list | Ignored)


@PROPERTY
@given(st.one_of(json_values, st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "conversationUpdate"])},
    optional={
        "id": st.text(max_size=10), "serviceUrl": st.text(max_size=30), "channelId": st.text(max_size=10),
        "from": json_values, "recipient": json_values, "conversation": json_values, "text": nasty_text,
        "value": json_values, "channelData": json_values,
    },
)))
def test_a_teams_activity_is_parsed_or_refused(body: Any) -> None:
    with contextlib.suppress(BadActivity):
        assert isinstance(parse(body), Activity)


@PROPERTY
@given(st.lists(st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "text": st.one_of(nasty_text, st.integers()), "custom": json_values, "buttons": json_values,
})), max_size=5))
def test_rasas_replies_are_judged_and_cleaned_whatever_they_hold(replies: list[Any]) -> None:
    dicts = [r for r in replies if isinstance(r, dict)]
    verdict = judge_turn(dicts)
    assert verdict.handoff_reason is None or isinstance(verdict.handoff_reason, str)
    for reply in dicts:
        custom = public_reply(reply).get("custom")
        assert not isinstance(custom, dict) or "handoff" not in custom


@PROPERTY
@given(st.text(alphabet=string.hexdigits + ".:, ", max_size=80), st.sampled_from(["127.0.0.1", "10.1.2.3"]))
def test_the_client_address_is_an_address_and_never_a_trusted_proxy_unless_the_peer(forwarded: str, peer: str) -> None:
    request = make_mocked_request("GET", "/", headers={"X-Forwarded-For": forwarded})
    request._transport_peername = (peer, 1234)  # type: ignore[attr-defined]
    trusted = parse_networks(["127.0.0.0/8"])
    address = client_address(request, trusted, "X-Forwarded-For")
    if peer == "10.1.2.3":
        assert address == peer  # an untrusted peer's header is never read
    else:
        assert address == peer or not address.startswith("127.")


@PROPERTY
@given(st.lists(st.tuples(st.text(max_size=5), st.floats(0, 1000)), max_size=50))
def test_a_bucket_never_allows_more_than_its_capacity_at_once(takes: list[tuple[str, float]]) -> None:
    buckets = BucketMap(3, 60.0)
    allowed = [key for key, _ in takes if buckets.take(key, 0.0) == 0.0]
    assert all(allowed.count(key) <= 3 for key in set(allowed))


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.floats(0, 30), st.integers(0, 2)), max_size=80))
def test_forgetting_refilled_buckets_changes_no_answer(takes: list[tuple[str, float, int]]) -> None:
    # The same takes, in time order, through a map that forgets refilled buckets and
    # through buckets that are never forgotten: every wait is the same.
    forgetting = BucketMap(3, 10.0)
    kept: dict[str, TokenBucket] = {}
    now = 0.0
    for key, step, cost in takes:
        now += step
        expected = kept.setdefault(key, TokenBucket(3, 10.0)).take(now, cost)
        assert forgetting.take(key, now, cost) == pytest.approx(expected)


@PROPERTY
@given(nasty_text, st.text(max_size=40))
def test_login_throttle_keys_are_per_account_and_address(account: str, address: str) -> None:
    keys = LoginPolicy().keys(account, address)
    assert [scope for scope, _, _ in keys] == ["login-pair", "login-acct", "login-addr"]
    assert keys[0][1].endswith(f"|{address}")

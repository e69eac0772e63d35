"""Our patches of Rasa internals (scripts/rasa_patches.py) decide exactly as Rasa does: the
action server's answers, checked with a validator built once, pass and fail as with Rasa's
own check, with the same message; event classes are resolved by name as Rasa resolves them.
The probes run in Rasa's environment."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import PROJECT_ROOT
from scripts.model import RASA_PYTHON, rasa_env

pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")

ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "kommun", "value": "Sala"}],
     "responses": [{"text": "Vänd dig till Almi.", "buttons": [{"title": "Ja", "payload": "/affirm"}]}]},
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": "Hej"}]},
    {},
    {"events": "inte en lista"},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "okänd_händelse"}]},
    {"responses": ["inte ett objekt"]},
    {"events": [{"event": "user", "text": "hej", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}}]},
]

PROBE = """
import json, sys
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
original = RemoteAction._validate_action_result
from scripts import rasa_patches
rasa_patches.apply()
patched = RemoteAction._validate_action_result
action = RemoteAction("action_referral", None)

def decide(check, answer):
    try:
        return ["ok", check(action, answer)]
    except ValidationError as error:
        return ["invalid", error.message]

answers = json.loads(sys.argv[1])
print(json.dumps([[decide(original, a), decide(patched, a)] for a in answers]))
"""


def test_the_patched_check_decides_every_answer_as_rasas_own() -> None:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", PROBE, json.dumps(ANSWERS)],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    decisions = json.loads(result.stdout.strip().splitlines()[-1])
    assert [original for original, _ in decisions] == [patched for _, patched in decisions]
    verdicts = [original[0] for original, _ in decisions]
    assert verdicts[:4] == ["ok"] * 4 and "invalid" in verdicts[4:]
    assert all("Failed to validate Action server response" in original[1]
               for original, _ in decisions if original[0] == "invalid")


EVENTS_PROBE = """
import json
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.utils.common import all_subclasses
original = Event.resolve_by_type
from scripts import rasa_patches
rasa_patches.apply()
patched = Event.resolve_by_type

def outcome(resolve, name, default=None):
    try:
        found = resolve(name, default)
        return None if found is None else found.__name__
    except ValueError as error:
        return "ValueError: " + str(error)

names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "okänd_händelse"]
calls = [(name, None) for name in names] * 2 + [("okänd_händelse", SlotSet), ("user", SlotSet)]
print(json.dumps([[outcome(original, n, d), outcome(patched, n, d)] for n, d in calls]))
"""


def test_event_classes_are_resolved_as_rasa_resolves_them() -> None:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", EVENTS_PROBE],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    assert [original for original, _ in outcomes] == [patched for _, patched in outcomes]
    assert ["UserUttered", "UserUttered"] in outcomes and ["SlotSet", "SlotSet"] in outcomes
    assert outcomes[-2] == ["SlotSet", "SlotSet"], "an unknown name gives the default"
    assert ["ValueError: Unknown event name 'okänd_händelse'.", "ValueError: Unknown event name 'okänd_händelse'."] \
        in outcomes


TRACKER_PROBE = """
import asyncio, json, os, sys, tempfile
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
original = (SQLTrackerStore._retrieve, SQLTrackerStore._additional_events, SQLTrackerStore.save)
from scripts import rasa_patches
rasa_patches.apply()
patched = (SQLTrackerStore._retrieve, SQLTrackerStore._additional_events, SQLTrackerStore.save)

def use(methods):
    SQLTrackerStore._retrieve, SQLTrackerStore._additional_events, SQLTrackerStore.save = methods

def session(tracker, start, turns):
    tracker.update(ActionExecuted("action_session_start", timestamp=start))
    tracker.update(SessionStarted(timestamp=start + 0.1))
    tracker.update(ActionExecuted("action_listen", timestamp=start + 0.2))
    for i in range(turns):
        tracker.update(UserUttered(f"hej {start} {i}", {"name": "greet", "confidence": 1.0}, timestamp=start + 1 + i))
        tracker.update(SlotSet("kommun", f"Sala {i}", timestamp=start + 1.2 + i))
        tracker.update(BotUttered(f"svar {i}", timestamp=start + 1.5 + i))
        tracker.update(ActionExecuted("action_listen", timestamp=start + 1.6 + i))

def columns(store, sender):
    with store.session_scope() as s:
        rows = s.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id)
        return [[e.type_name, e.timestamp, e.intent_name, e.action_name, json.loads(e.data)] for e in rows]

async def events(store, sender, every_session):
    tracker = await store._retrieve(sender, every_session)
    return None if tracker is None else [e.as_dict() for e in tracker.events]

async def scenario(saving):
    # Three conversations saved turn by turn with the `saving` versions (one per session,
    # in turn), each read back with both versions.
    domain = Domain.from_yaml(
        "version: '3.1'\\nintents: [greet]\\nslots:\\n  kommun:\\n    type: text\\n    mappings: [{type: custom}]\\n"
    )
    store = SQLTrackerStore(domain, dialect="sqlite", db=os.path.join(tempfile.mkdtemp(), "t.db"))
    out = {}
    for sender, sessions in (("a", 1), ("b", 3), ("tom", 0)):
        tracker = DialogueStateTracker(sender, domain.slots)
        added = 0
        for n in range(sessions):
            # As Rasa does: the tracker read back (its latest session), a session added, saved.
            use(saving[n % len(saving)])
            tracker = await store.retrieve(sender) or tracker
            before = len(tracker.events)
            session(tracker, 1000.0 * (n + 1), 3 + n)
            added += len(tracker.events) - before
            await store.save(tracker)
        use(patched)
        tracker = await store.retrieve(sender) or tracker
        tracker.update(UserUttered("ej sparad", timestamp=9999.0))  # one event not stored yet
        read = {}
        for name, methods in (("original", original), ("patched", patched)):
            use(methods)
            with store.session_scope() as s:
                unsaved = [e.as_dict() for e in store._additional_events(s, tracker)]
            read[name] = {"latest": await events(store, sender, False), "all": await events(store, sender, True),
                          "unsaved": unsaved}
        out[sender] = {"added": added, "stored": columns(store, sender), **read}
    return out

async def main():
    runs = {name: await scenario(saving) for name, saving in
            (("original", [original]), ("patched", [patched]), ("mixed", [patched, original]))}
    print(json.dumps(runs))

asyncio.run(main())
"""


def test_the_tracker_store_reads_and_counts_events_as_rasas_own_queries() -> None:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", TRACKER_PROBE],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    # Stored by Rasa's save, by ours, or by both in turn: the same rows, read the same.
    assert runs["original"] == runs["patched"] == runs["mixed"]
    senders = runs["patched"]
    for sender, read in senders.items():
        assert read["original"] == read["patched"], sender
    many = senders["b"]["patched"]
    # Three sessions saved by turns with both versions: every event stored once, in order.
    assert len(many["all"]) == senders["b"]["added"] == 3 * 3 + 4 * (3 + 4 + 5)
    assert many["latest"][0]["event"] == "session_started" and len(many["latest"]) == 2 + 4 * 5  # from its start
    assert [e["text"] for e in many["unsaved"]] == ["ej sparad"]
    assert senders["tom"]["patched"]["all"] is None

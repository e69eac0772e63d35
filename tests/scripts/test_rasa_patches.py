"""The action server's answers are checked with a validator built once (scripts/rasa_patches.py)
and decide exactly as Rasa's own check: the same answers pass, the same fail, with the same
message. The probe runs in Rasa's environment."""

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

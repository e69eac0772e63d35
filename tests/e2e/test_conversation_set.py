"""The conversation test set (tests/conversations.yml) through a real Rasa server and
action server: a situation told over several messages, follow-ups ("vi är 12 anställda",
"hur kontaktar jag dem?", "finns det något mer?"), a correction, ended schemes, a
municipality, hand-offs, and the expected referral or action at every turn."""

from __future__ import annotations

import pytest

from core.settings import Settings
from scripts.conversation_eval import TURNS_REQUIRED, evaluate, load_conversations, summary
from tests.e2e.conftest import SUMMARY

pytestmark = pytest.mark.e2e


def test_the_set_has_twenty_multi_turn_conversations_with_an_expectation_per_turn() -> None:
    conversations = load_conversations()
    assert len(conversations) >= 20
    assert sum(len(c["turns"]) > 1 for c in conversations) >= 12
    assert all(turn["expect"] for c in conversations for turn in c["turns"])


async def test_the_conversation_set_reaches_the_bar(rasa_stack: Settings) -> None:
    report = await evaluate(rasa_stack.rasa_url, token=rasa_stack.rasa_token)
    SUMMARY.append(summary(report))
    SUMMARY.extend(f"  miss: {r['conversation']} #{r['turn']} {r['say'][:60]!r} expected {r['expect']} "
                   f"got {r['got']}" for r in report.failures())
    assert report.turn_score >= TURNS_REQUIRED

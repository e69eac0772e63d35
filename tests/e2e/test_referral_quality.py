"""Answer quality on the development set, through a real Rasa server's REST channel."""

from __future__ import annotations

import pytest

from core.settings import Settings
from scripts.referral_eval import DEV_SET, TOP1_REQUIRED, evaluate, load_set, load_targets
from tests.e2e.conftest import SUMMARY

pytestmark = pytest.mark.e2e


async def test_dev_set_top1_referral_reaches_the_bar(rasa_stack: Settings) -> None:
    if not DEV_SET.exists():
        pytest.skip(f"{DEV_SET} is not here (it lives in shared/ beside the repo)")
    report = await evaluate(rasa_stack.rasa_url, load_set(), load_targets(), token=rasa_stack.rasa_token)
    SUMMARY.append(f"Dev set: top-1 referral {report.top1:.3f}, any-mention {report.any_mention:.3f} "
                   f"({len(report.rows)} questions; required top-1 {TOP1_REQUIRED})")
    SUMMARY.extend(f"  miss: {row['text'][:80]!r} expected {row['expect']} got {row['first']}"
                   for row in report.failures())
    assert report.top1 >= TOP1_REQUIRED

"""How an admin's lookup value matches what is stored (pure parts of bot.conversation.privacy)."""

from __future__ import annotations

import pytest

from bot.conversation.privacy import _channel_user_matches, digits


@pytest.mark.parametrize("written", ["070-111 22 33", "+46 70 111 22 33", "0046701112233", "(070) 1112233"])
def test_a_phone_number_is_compared_by_its_digits_with_the_country_code_read_as_zero(written: str) -> None:
    assert digits(written) == "0701112233"


def test_a_slack_user_is_found_by_display_name_dm_channel_or_thread_but_never_a_whole_channel() -> None:
    assert _channel_user_matches("slack", "eva ek", "D0EVA0001", "Eva Ek", None)
    assert _channel_user_matches("slack", "D0EVA0001", "D0EVA0001", None, None)
    thread = "C0SUPPORT:1700000000.000100"
    assert _channel_user_matches("slack", thread, thread, None, None)
    assert not _channel_user_matches("slack", "C0SUPPORT", thread, "Bo Ek", None)
    assert not _channel_user_matches("slack", "D0EVA", "D0EVA0001", "Eva Ek", None)


def test_a_teams_user_is_found_by_name_or_user_id() -> None:
    address = {"user_id": "29:1eva-aad-user", "user_name": "Eva Ek"}
    assert _channel_user_matches("teams", "29:1eva-aad-user", "tenant/a:1", None, address)
    assert _channel_user_matches("teams", "Eva Ek", "tenant/a:1", None, address)
    assert not _channel_user_matches("teams", "29:1someone-else", "tenant/a:1", "Eva Ek", address)

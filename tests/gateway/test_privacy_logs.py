"""No personnummer in the gateway's log lines, whatever a line quotes."""

from __future__ import annotations

import io
import logging

from bot import logmask
from bot.rules.personal_numbers import MASK


def test_a_log_line_and_its_traceback_are_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.privacy.logs")
    logger.addHandler(handler)
    logger.propagate = False
    logmask.install(logger)
    logmask.install(logger)  # installing twice adds one filter
    try:
        logger.warning("body was %s", {"text": "mitt nummer 19811218-9876"})
        try:
            raise ValueError("bad input 811218-9876")
        except ValueError:
            logger.exception("failed for order %s", "1234567890")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "9876" not in output
    assert output.count(MASK) == 3  # the message, and the traceback's source line and exception
    assert "1234567890" in output  # not a personnummer: kept
    assert len(handler.filters) == 1

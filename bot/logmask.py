"""A logging filter that masks personnummer in every log line the gateway writes.

Texts are masked before they are stored, but a log line can still quote what arrived (an
exception with a request body, a library's debug output). The filter renders the message
with its arguments, masks it (`bot.rules.personal_numbers`), and hands on the result.
"""

from __future__ import annotations

import logging

from bot.rules.personal_numbers import mask


class MaskPersonalNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            rendered = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        masked = mask(rendered)
        if masked != rendered:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_text is None and record.exc_info[0] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Mask on every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskPersonalNumbers) for f in handler.filters):
            handler.addFilter(MaskPersonalNumbers())

"""The bad-input corpus every entrance is tested with (docs/hardening.md)."""

from __future__ import annotations

import unicodedata

# (name, what a hostile or careless sender writes)
TEXTS: list[tuple[str, str]] = [
    ("script", "<script>alert('xss')</script>"),
    ("html", '<img src=x onerror="alert(1)"><b>fet</b>'),
    ("javascript_link", "Klicka här: javascript:alert(document.cookie)"),
    ("data_link", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("bidi", "Faktura \u202egpj.exe"),
    ("isolates", "\u2066abc\u2069 \u200e\u200f\u061c slut"),
    ("zero_width", "Al\u200bm\u200ci\u200d\u2060\ufeff"),
    ("nul", "hej\u0000då"),
    ("controls", "a\u0007b\u001bc\u007f"),
    ("sql", "'; DROP TABLE conversations; -- \" OR 1=1 /* %_ \\"),
    ("long_word", "x" * 1900),
    ("emoji", "Tack! \U0001f44d\U0001f3fd"),
]

HIDDEN = {"Cc", "Cf", "Cs"}


def visible(text: str) -> bool:
    """No control, format (bidi, zero-width) or surrogate characters except newline and tab."""
    return all(ch in "\n\t" or unicodedata.category(ch) not in HIDDEN for ch in text)


# JSON nobody should be able to crash a parser with.
DEEP_JSON = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
ONE_MB = "x" * (1024 * 1024)
INVALID_UTF8 = b'{"sender": "a", "message": "\xff\xfe\xfa"}'

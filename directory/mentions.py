"""Which directory organisation a reply names first (plain functions).

The same measure as the answer-quality evaluation: a target is named by its canonical
name or an alias, case-insensitively, as whole words; what counts is the first one in the
text. Used to record the referral each company message got (analytics, the review list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


def name_patterns(names: Mapping[str, Sequence[str]]) -> list[tuple[re.Pattern[str], str]]:
    """One whole-word pattern per name, longest names first (so a full name wins over an
    alias it contains)."""
    pairs = [(name, target) for target, candidates in names.items() for name in candidates if name.strip()]
    pairs.sort(key=lambda pair: -len(pair[0]))
    return [(re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE), target) for name, target in pairs]


def first_named(text: str, patterns: Sequence[tuple[re.Pattern[str], str]]) -> str | None:
    """The target named earliest in `text`, or None."""
    best: tuple[int, int, str] | None = None  # (position, -length, target)
    for pattern, target in patterns:
        match = pattern.search(text)
        if match is None:
            continue
        key = (match.start(), -(match.end() - match.start()), target)
        if best is None or key < best:
            best = key
    return best[2] if best else None

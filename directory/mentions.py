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


# --- Recognising names in a company's message (at answer time, from the database) ------
#
# The model holds no directory content: the actions find the organisations and schemes a
# message names with these functions, from the names and aliases in the database at that
# moment, so an alias an admin adds is recognised in the next answer without retraining.

# Aliases that are ordinary nouns in most sentences ("kommunen har sagt nej") do not count
# as naming the organisation; the topic decides when the municipality is meant. Folded.
GENERIC_NAMES = frozenset({"kommunen", "kommun", "regionen", "omstallningsorganisation"})
# Organisations a company does not name itself (Företagssupporten's partners are reached
# through Företagssupporten).
UNNAMED_KINDS = frozenset({"partner"})
# A name's last word may carry a Swedish inflected ending: "Almis", "Tullens",
# "hyresstödet", "Skatteverkets" (but "Almighty" is not Almi).
_ENDING = r"(?:s|n|ns|t|ts|e|en|ens|et|ets|er|ers|erna|ernas|ar|arna|arnas|na|nas)?"
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


def fold(text: str) -> str:
    """Lowercase without å/ä/ö: companies often type 'tillvaxtverket' or 'lansstyrelsen'."""
    return text.lower().translate(_FOLD)


def mention_patterns(names: Mapping[str, Sequence[str]]) -> list[tuple[re.Pattern[str], str]]:
    """One pattern per recognisable name (folded, whole words, inflected last word),
    longest names first; generic nouns are left out."""
    pairs = sorted(
        ((folded, target) for target, candidates in names.items()
         for folded in {fold(n.strip()) for n in candidates}
         if folded and folded not in GENERIC_NAMES),
        key=lambda pair: -len(pair[0]),
    )
    patterns = []
    for folded, target in pairs:
        body = r"\s+".join(re.escape(word) for word in folded.split())
        ending = _ENDING if folded[-1].isalpha() else ""
        patterns.append((re.compile(rf"(?<!\w){body}{ending}(?!\w)"), target))
    return patterns


def mentioned(text: str, patterns: Sequence[tuple[re.Pattern[str], str]]) -> tuple[str, ...]:
    """The targets `text` names, in the order it names them (each once). Where names
    overlap, the longer one wins ("Almi Företagspartner Mälardalen" is one mention)."""
    folded = fold(text)
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []
    for pattern, target in patterns:  # longest first
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append((start, target))
    return tuple(dict.fromkeys(target for _, target in sorted(found)))

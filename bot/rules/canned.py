"""Canned replies: placeholders filled in for the chat at hand (plain functions).

A placeholder is a word in braces: `{företag}`. Known ones are replaced with what the
console knows about the chat; one it has no value for stays in the text and is reported
as missing, so the advisor fills it in before sending (nothing is guessed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Placeholder -> what it stands for (shown to advisors in the console).
PLACEHOLDERS: Mapping[str, str] = {
    "företag": "företagets namn",
    "kontaktperson": "namnet på den som skriver",
    "rådgivare": "ditt namn",
    "rådgivare_förnamn": "ditt förnamn",
}

_PLACEHOLDER = re.compile(r"\{([a-zåäö_]+)\}")
MAX_TITLE = 200
MAX_BODY = 2000


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: tuple[str, ...]  # placeholders left in the text, in order of appearance


def values_for(
    company_name: str | None, person_name: str | None, advisor_name: str
) -> dict[str, str]:
    """Placeholder values for one chat; unknown ones are left out."""
    values = {"rådgivare": advisor_name.strip(), "rådgivare_förnamn": advisor_name.strip().split(" ")[0]}
    if company_name and company_name.strip():
        values["företag"] = company_name.strip()
    if person_name and person_name.strip():
        values["kontaktperson"] = person_name.strip()
    return {k: v for k, v in values.items() if v}


def render(body: str, values: Mapping[str, str]) -> Rendered:
    """The body with every placeholder that has a value filled in."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name in PLACEHOLDERS and name not in missing:
            missing.append(name)
        return match.group(0)

    return Rendered(_PLACEHOLDER.sub(fill, body), tuple(missing))


def unknown_placeholders(body: str) -> list[str]:
    """Words in braces that are not placeholders (probably a typo, e.g. `{foretag}`)."""
    return [name for name in dict.fromkeys(_PLACEHOLDER.findall(body)) if name not in PLACEHOLDERS]


def matches(title: str, body: str, query: str) -> bool:
    """The "/" search in the reply box: every word of the query appears in the title or
    the body, ignoring case."""
    haystack = f"{title}\n{body}".casefold()
    return all(word in haystack for word in query.casefold().split())

"""Rasa's validation and training errors in Swedish (plain functions).

`rasa data validate` speaks English; the admin gets a Swedish sentence for the problems we
know, and the line itself for the rest (so nothing is hidden)."""

from __future__ import annotations

import re

KNOWN = (
    (re.compile(r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU training data"),
     "Avsikten {0} finns i domänen men har inga exempel."),
    (re.compile(r"The example '([^']+)' was found labeled with multiple different intents"),
     "Exemplet ”{0}” finns under flera avsikter. Ett exempel får bara höra till en avsikt."),
    (re.compile(r"The intent '([^']+)' is used in (?:your )?stories?.*but it's not listed in the domain"),
     "Avsikten {0} används i en dialogregel eller berättelse men finns inte bland avsikterna."),
    (re.compile(r"The action '([^']+)' is used in the stories, but is not a valid utterance action"),
     "Svaret {0} används i en dialog men finns inte."),
    (re.compile(r"Contradicting rules or stories found"),
     "Två dialogregler eller berättelser säger emot varandra."),
    (re.compile(r"(?:ParserError|ScannerError|YamlSyntaxException)"),
     "En text bryter YAML-formatet (t.ex. ett kolon eller citattecken på fel ställe)."),
    (re.compile(r"MemoryError|Killed"), "Datorn fick slut på minne under träningen."),
)
ERROR_LINE = re.compile(r"\b(ERROR|Error|error|Exception|UserWarning)\b")


def translate(output: str, limit: int = 20) -> list[str]:
    """The problems in Rasa's output, in Swedish where we know them."""
    found: list[str] = []
    for line in output.splitlines():
        for pattern, message in KNOWN:
            if match := pattern.search(line):
                found.append(message.format(*match.groups()))
                break
        else:
            if ERROR_LINE.search(line):
                found.append(f"Rasa: {line.strip()[:300]}")
    unique = list(dict.fromkeys(found))
    return unique[:limit] or ["Rasa avslutade med ett fel utan närmare förklaring (se loggen)."]

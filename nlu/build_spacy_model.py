"""Build the project's Swedish spaCy pipeline, which Rasa loads through `SpacyNLP`.

spaCy has no downloadable Swedish pipeline here, so we assemble one from built-in parts
only (so plain `spacy.load` reads it back, no custom code to register):

1. `lemmatizer` (lookup mode): one table, form → lemma. Every word of our own vocabulary
   (the training data) and its spelling without å/ä/ö map to the word's lemma, so that
   "lanet" and "lånet" both become "lån" (users often type without å/ä/ö); every other
   form in spacy-lookups-data's Swedish table whose lemma is one of our lemmas maps to it,
   so an unseen form of a known word ("bidragens") still becomes the known lemma. Forms
   of words the data never uses are left out (about 33,000 of 660,000 forms are kept): their
   lemma would be a word the classifiers have no feature for anyway, and the full table
   cost Rasa about 210 MiB and several seconds of its model load (docs/operations.md, "A
   leaner Rasa"). Rasa's `SpacyNLP` (`case_sensitive: false`) lowercases every message
   before spaCy sees it, so the table holds lowercase forms only. (An `attribute_ruler`
   with one pattern per form did the first half until it showed up as 7 % of Rasa's CPU
   per turn; a dictionary lookup gives the same lemmas.)
2. `entity_ruler`: Västmanland's municipalities (å/ä/ö optional, inflected endings
   allowed) and company sizes ("12 anställda", "ensamföretagare"), from `nlu/patterns.yml`.

The model holds no directory content: organisations and schemes are recognised by the
actions at answer time from the names and aliases in the database
(`directory/mentions.py`), so an alias an admin adds is understood in the next answer
without retraining.

Run with the Rasa environment: `.venv-rasa/bin/python -m nlu.build_spacy_model OUT_DIR`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
import spacy_lookups_data
import yaml
from spacy.lookups import Lookups
from spacy.util import load_language_data

ROOT = Path(__file__).resolve().parent.parent
FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "Å": "A", "Ä": "A", "Ö": "O"})
OPTIONAL_ACCENT = {"å": "[åa]", "ä": "[äa]", "ö": "[öo]", "é": "[ée]"}
KEEP_AS_TYPED = {"har", "var", "for", "sa", "fore", "nar"}
WORD = re.compile(r"[a-zåäöéü]+(?:-[a-zåäöéü]+)*", re.IGNORECASE)


def fold(text: str) -> str:
    return text.translate(FOLD)


def accent_insensitive(word: str) -> str:
    return "".join(OPTIONAL_ACCENT.get(ch, re.escape(ch)) for ch in word.lower())


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def training_vocabulary(nlu_dir: Path) -> set[str]:
    words: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (read_yaml(path) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                words.update(w.lower() for w in WORD.findall(line))
    return words


def domain_lemmas(words: Iterable[str], table: dict[str, str]) -> dict[str, str]:
    """Each word of our vocabulary, and its spelling without å/ä/ö → its lemma."""
    lemma_of: dict[str, str] = {}
    for word in sorted(words):
        lemma_of.setdefault(word, table.get(word, word).lower())
    for word, lemma in sorted(lemma_of.items()):
        folded = fold(word)
        # Typed without å/ä/ö, a word of our domain means the domain word ("lan" is "lån"),
        # except for the few very common words that are also spelled so ("har" is not "här").
        if folded != word and folded not in KEEP_AS_TYPED:
            lemma_of[folded] = lemma
    return lemma_of


def lemma_table(words: Iterable[str], table: dict[str, str]) -> dict[str, str]:
    """The lowercase forms of `table` (form → lemma) whose lemma is a word of `words` or
    the lemma of one, then `domain_lemmas` over them: every form of a word our data knows,
    nothing of the rest of the language."""
    known = set(words)
    lemmas = known | {table.get(word, word).lower() for word in known}
    kept = {form: lemma.lower() for form, lemma in table.items()
            if form == form.lower() and lemma.lower() in lemmas}
    return kept | domain_lemmas(known, table)


def phrase_pattern(phrase: str) -> list[dict[str, Any]]:
    """Tokens of a name; each word matches with optional å/ä/ö and inflected endings."""
    tokens = [t for t in re.split(r"\s+", phrase.strip()) if t]
    pattern: list[dict[str, Any]] = []
    for index, token in enumerate(tokens):
        last = index == len(tokens) - 1
        # Inflections only on the last word ("Almis", "Skatteverkets", "hyresstödet").
        regex = "^" + accent_insensitive(token) + (r"[a-zåäö]{0,4}$" if last else "$")
        pattern.append({"LOWER": {"REGEX": regex}})
    return pattern


def static_patterns(path: Path) -> Iterator[dict[str, Any]]:
    data = read_yaml(path)
    for municipality in data["municipalities"]:
        yield {"label": "municipality", "pattern": phrase_pattern(municipality),
               "id": municipality}
    for size in data["company_size"]:
        yield {"label": "company_size", "pattern": size}


def build(out_dir: Path) -> None:
    nlp = spacy.blank("sv")
    table: dict[str, str] = load_language_data(spacy_lookups_data.sv["lemma_lookup"])
    vocabulary = training_vocabulary(ROOT / "data" / "nlu")
    lookups = Lookups()
    lookups.add_table("lemma_lookup", lemma_table(vocabulary, table))

    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    entities = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the full lookup table; it would also clear the ruler's patterns
    lemmatizer.initialize(lookups=lookups)  # type: ignore[attr-defined]
    entities.add_patterns(list(static_patterns(ROOT / "nlu" / "patterns.yml")))  # type: ignore[attr-defined]
    nlp.meta["name"] = "foretagsstod"
    nlp.meta["description"] = "Swedish pipeline for Västmanlands Företagssupport (built, not trained)"
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    print(f"spaCy pipeline written to {out_dir}: {nlp.pipe_names}, "
          f"{len(lookups.get_table('lemma_lookup'))} lemmas for {len(table)} forms of the full table")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "models" / "spacy" / "sv_foretagsstod")

"""The project's Swedish spaCy pipeline (nlu/build_spacy_model.py), as Rasa loads it:
words of the domain get their lemma however they are inflected or typed, and the lemma
table holds only the domain's words, not the whole language. Rasa lowercases every
message before spaCy sees it (`case_sensitive: false`), so the probes are lowercase."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.settings import PROJECT_ROOT
from scripts.model import RASA_PYTHON, SPACY_DIR, ensure_spacy, rasa_env

# Built by `make model`, before the end-to-end stage.
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")]

PROBE = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
words = sys.argv[2:]
lemmas = {w: nlp(w)[0].lemma_ for w in words}
table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
print(json.dumps({"lemmas": lemmas, "table": len(table)}))
"""


@pytest.fixture(scope="module")
def pipeline() -> dict[str, object]:
    ensure_spacy()
    words = ["lånet", "lanet", "lånen", "bidragens", "konkursernas", "permitteringarna", "varslens", "elefanterna"]
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", PROBE, str(SPACY_DIR), *words],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_a_domain_word_has_its_lemma_typed_with_or_without_accents(pipeline: dict[str, object]) -> None:
    lemmas = pipeline["lemmas"]
    assert isinstance(lemmas, dict)
    assert (lemmas["lånet"], lemmas["lanet"], lemmas["lånen"]) == ("lån", "lån", "lån")


def test_forms_the_training_data_never_uses_still_reach_the_domain_lemma(pipeline: dict[str, object]) -> None:
    lemmas = pipeline["lemmas"]
    assert isinstance(lemmas, dict)
    assert (lemmas["bidragens"], lemmas["konkursernas"], lemmas["permitteringarna"], lemmas["varslens"]) == (
        "bidrag", "konkurs", "permittering", "varsel")


def test_the_lemma_table_holds_the_domains_words_not_the_whole_language(pipeline: dict[str, object]) -> None:
    lemmas = pipeline["lemmas"]
    assert isinstance(lemmas, dict) and lemmas["elefanterna"] == "elefanterna"  # no elephants in business support
    # spacy-lookups-data's Swedish table has about 660,000 forms; Rasa held them in ~210 MiB.
    assert isinstance(pipeline["table"], int) and 1_000 < pipeline["table"] < 100_000

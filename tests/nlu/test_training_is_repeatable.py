"""Two trainings of the same project see the same domain, so fine-tuning (the admin's quick
path) accepts the active model: Rasa 3.6 adds the retrieval actions in the order of a set of
strings, which follows Python's hash seed, so every Rasa run gets the same seed."""

from __future__ import annotations

import subprocess

import pytest

from core.settings import PROJECT_ROOT
from scripts.model import RASA_PYTHON, rasa_env

# What Rasa's fine-tuning check compares: the fingerprint of the domain pruned for the dialogue.
PROBE = """
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.graph_components.providers.domain_for_core_training_provider import DomainForCoreTrainingProvider
importer = TrainingDataImporter.load_from_config("config.yml", "domain.yml", ["data/nlu", "data/rules", "data/stories"])
print(DomainForCoreTrainingProvider.create_pruned_version(importer.get_domain()).fingerprint())
"""


@pytest.mark.e2e
@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")
def test_rasa_sees_the_same_dialogue_domain_whatever_hash_seed_the_caller_has(
        monkeypatch: pytest.MonkeyPatch) -> None:
    prints = set()
    for callers_seed in ("1", "4"):  # without one seed for Rasa, these two order utter_faq/utter_chitchat differently
        monkeypatch.setenv("PYTHONHASHSEED", callers_seed)
        result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", PROBE], cwd=PROJECT_ROOT, env=rasa_env(),
                                capture_output=True, text=True, check=True, timeout=300)
        prints.add(result.stdout.strip().splitlines()[-1])
    assert len(prints) == 1

"""Our regressions build each message's feature row from its sentence features alone
(nlu/sentence_features.py): the very matrix Rasa's own `_create_X` builds, without
combining the per-token features it throws away. The probe runs in Rasa's environment."""

from __future__ import annotations

import subprocess

import pytest

from core.settings import PROJECT_ROOT
from scripts.model import RASA_PYTHON, rasa_env

pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")

PROBE = """
import numpy as np
from scipy.sparse import random as sparse_random
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from nlu.sentence_features import has_sentence_features, sentence_matrix

rng = np.random.default_rng(3)

def message(tokens, dense):
    m = Message(data={TEXT: "x " * tokens})
    for origin, width in (("LexicalSyntacticFeaturizer", 7), ("CountVectorsFeaturizer", 11), ("CharCounts", 5)):
        tokens_rows = sparse_random(tokens, width, density=0.4, format="coo", random_state=1)
        sentence_row = sparse_random(1, width, density=0.5, format="coo", random_state=2)
        m.add_features(Features(tokens_rows, "sequence", TEXT, origin))
        m.add_features(Features(sentence_row, "sentence", TEXT, origin))
    if dense:
        m.add_features(Features(rng.random((1, 3)), "sentence", TEXT, "Dense"))
        m.add_features(Features(rng.random((tokens, 3)), "sequence", TEXT, "Dense"))
    return m

for dense in (False, True):
    messages = [message(n, dense) for n in (1, 4, 9)]
    ours = sentence_matrix(messages).toarray()
    rasas = LogisticRegressionClassifier._create_X(None, messages).toarray()
    assert ours.shape == rasas.shape == (3, 23 + (3 if dense else 0)), (ours.shape, rasas.shape)
    assert np.array_equal(ours, rasas)
empty = Message(data={TEXT: ""})
print(all(has_sentence_features(m) for m in messages), has_sentence_features(empty))
"""


def test_the_feature_rows_are_rasas_own_with_and_without_dense_features() -> None:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", PROBE], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "True False"

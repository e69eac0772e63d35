"""Our classifiers' logistic regressions are stored as plain arrays: read back they predict
exactly as before, they can be refitted from their weights (fine-tuning), a file that
would need pickle is refused, and models saved with skops by earlier versions still load.

The probes run in Rasa's environment, where scikit-learn and NumPy are installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from scripts.model import RASA_PYTHON, rasa_env

pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")

FIT = """
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(1)
X = rng.random((60, 12))
y = np.array(["faq/öppettider", "faq/kontakt", "chitchat/hej"] * 20, dtype=object)
clf = LogisticRegression(C=10.0, max_iter=500).fit(X, y)
"""


def probe(code: str, tmp_path: Path) -> str:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", FIT + code, str(tmp_path)],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_a_saved_regression_predicts_exactly_as_the_fitted_one(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
from nlu import linear_model_io
d = Path(sys.argv[1])
linear_model_io.save(clf, d, "m")
back = linear_model_io.load(d, "m")
assert list(back.classes_) == list(clf.classes_)
assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
assert back.get_params() == clf.get_params()
print("same")
""", tmp_path)
    assert out == "same"


def test_a_read_back_regression_scores_a_sparse_message_without_copying_its_weights(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
import scipy.sparse as sp
from nlu import linear_model_io
d = Path(sys.argv[1])
linear_model_io.save(clf, d, "m")
back = linear_model_io.load(d, "m")
message = sp.csr_matrix(X[:1])
print(back.coef_.T.flags["C_CONTIGUOUS"], np.array_equal(back.predict_proba(message), clf.predict_proba(message)))
""", tmp_path)
    assert out == "True True"


def test_a_read_back_regression_can_be_refitted_from_its_weights(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
from nlu import linear_model_io
d = Path(sys.argv[1])
linear_model_io.save(clf, d, "m")
back = linear_model_io.load(d, "m")
back.set_params(warm_start=True)
back.fit(X[:45], y[:45])
print(back.n_iter_[0] <= clf.n_iter_[0])
""", tmp_path)
    assert out == "True"


def test_a_file_that_needs_pickle_is_refused(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
from nlu import linear_model_io
d = Path(sys.argv[1])
linear_model_io.save(clf, d, "m")
np.savez(d / "m.arrays.npz", coef=clf.coef_, intercept=clf.intercept_,
         classes=np.array([object(), object(), object()], dtype=object), n_iter=clf.n_iter_)
try:
    linear_model_io.load(d, "m")
except ValueError:
    print("refused")
""", tmp_path)
    assert out == "refused"


def test_a_model_saved_with_skops_by_an_earlier_version_still_loads(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
import skops.io as sio
from nlu import linear_model_io
d = Path(sys.argv[1])
sio.dump(clf, d / "old.skops")
print(linear_model_io.exists(d, "m", "old.skops"),
      np.array_equal(linear_model_io.load(d, "m", "old.skops").predict_proba(X), clf.predict_proba(X)))
""", tmp_path)
    assert out == "True True"


def test_nothing_saved_is_nothing_found(tmp_path: Path) -> None:
    out = probe("""
import sys; from pathlib import Path
from nlu import linear_model_io
d = Path(sys.argv[1])
try:
    linear_model_io.load(d, "m", "old.skops")
except FileNotFoundError:
    print(linear_model_io.exists(d, "m", "old.skops"))
""", tmp_path)
    assert out == "False"

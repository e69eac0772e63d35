"""Store and read back a fitted scikit-learn logistic regression as plain arrays.

Both of our classifiers (`nlu.blended_classifier`, `nlu.retrieval_selector`) keep a
`LogisticRegression`. A fitted one is nothing but its parameters and four arrays
(`coef_`, `intercept_`, `classes_`, `n_iter_`), so it is saved as a NumPy `.npz` read with
`allow_pickle=False` (no code or object can come out of the file) beside its parameters in
JSON.

Why not skops (what Rasa's own LogisticRegressionClassifier uses): importing skops builds
its list of trusted types by asking `pickle.whichmodule` about every type, which walks all
of `sys.modules`; with TensorFlow imported that took about a third of Rasa's model load
(py-spy, docs/operations.md "A leaner Rasa"). Models saved by earlier versions hold a
`.skops` file; `load` still reads those, so an older model in the registry can be restored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

ARRAYS = "arrays.npz"
PARAMS = "params.json"


def save(clf: LogisticRegression, directory: Path, stem: str) -> None:
    """Write `stem.arrays.npz` and `stem.params.json` into `directory`."""
    classes = np.asarray(clf.classes_)
    if classes.dtype == object:  # string labels: a fixed-width unicode array needs no pickle
        classes = classes.astype(str)
    np.savez(directory / f"{stem}.{ARRAYS}", coef=clf.coef_, intercept=clf.intercept_, classes=classes,
             n_iter=np.asarray(clf.n_iter_))
    (directory / f"{stem}.{PARAMS}").write_text(json.dumps(clf.get_params()), encoding="utf-8")


def exists(directory: Path, stem: str, legacy: str | None = None) -> bool:
    return (directory / f"{stem}.{ARRAYS}").exists() or bool(legacy and (directory / legacy).exists())


def load(directory: Path, stem: str, legacy: str | None = None) -> LogisticRegression:
    """The regression saved by `save`, or by skops in `legacy` (earlier models).

    Raises FileNotFoundError when neither file is there and ValueError for a file that
    would need pickle (or, for skops, types it does not trust)."""
    arrays_path = directory / f"{stem}.{ARRAYS}"
    if not arrays_path.exists() and legacy and (directory / legacy).exists():
        return _load_skops(directory / legacy)
    params: dict[str, Any] = json.loads((directory / f"{stem}.{PARAMS}").read_text(encoding="utf-8"))
    clf = LogisticRegression(**params)
    with np.load(arrays_path, allow_pickle=False) as arrays:
        clf.coef_ = arrays["coef"]
        clf.intercept_ = arrays["intercept"]
        clf.classes_ = arrays["classes"]
        clf.n_iter_ = arrays["n_iter"]
    clf.n_features_in_ = clf.coef_.shape[1]
    return for_prediction(clf)


def for_prediction(clf: LogisticRegression) -> LogisticRegression:
    """Lay `coef_` out column-major, so that `coef_.T` is C-contiguous.

    scikit-learn scores a message as `X @ coef_.T` with `X` a sparse row, and SciPy's
    sparse-times-dense product copies a dense operand that is not C-contiguous on every
    call: with our ~19,000 features and ~85 intents that copy was 3 ms of a message's
    prediction (50 times the product itself) and 8 % of the Rasa server's CPU under ten
    clients (py-spy, docs/operations.md "A faster turn"). Same values, same sums."""
    clf.coef_ = np.asfortranarray(clf.coef_)
    return clf


def _load_skops(path: Path) -> LogisticRegression:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    if untrusted:  # like Rasa: refuse a file that would make skops load unknown types
        raise ValueError(f"untrusted types in {path}: {untrusted}")
    clf: LogisticRegression = sio.load(path, trusted=untrusted)
    return for_prediction(clf)

"""The sentence-level feature row of a message, as our logistic regressions see it.

Rasa's `LogisticRegressionClassifier._create_X` asks each message for
`get_sparse_features(TEXT)` and `get_dense_features(TEXT)` and keeps the sentence half.
Those calls deep-copy and combine the per-token (sequence) features too, which nobody
here uses; with two regressions in the pipeline (`nlu.blended_classifier`,
`nlu.retrieval_selector`) that was about a fifth of Rasa's CPU per turn (py-spy,
docs/operations.md "A faster turn"). This builds the same row (the sparse sentence
features of every featurizer in pipeline order, then the dense ones) from the sentence
features alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack


def _parts(message: Message, sparse: bool) -> list[object]:
    return [f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse() == sparse]


def has_sentence_features(message: Message) -> bool:
    """Whether the message has a sparse sentence feature (an empty text has none)."""
    return any(f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()
               for f in message.features)


def sentence_matrix(messages: Sequence[Message]) -> csr_matrix:
    """One row per message, columns as in Rasa's `_create_X` (sparse, then dense)."""
    rows = []
    for message in messages:
        parts = [csr_matrix(p) for p in _parts(message, sparse=True) + _parts(message, sparse=False)]
        rows.append(hstack(parts, format="csr") if len(parts) > 1 else parts[0] if parts else csr_matrix([]))
    return vstack(rows, format="csr")

"""A Rasa intent classifier that averages DIET's ranking with a logistic regression.

It runs after `DIETClassifier` in `config.yml`. Training fits scikit-learn's logistic
regression on the same sparse sentence features DIET sees (word and character n-gram
counts). At prediction time it blends the regression's probabilities with the ranking
DIET has already put on the message (`nlu.blend.blend`) and sets `intent` and
`intent_ranking` to the blend, so `FallbackClassifier` and the policies see one answer.

Loaded by Rasa (in `.venv-rasa`) as `nlu.blended_classifier.BlendedIntentClassifier`;
Rasa puts the project directory on `sys.path`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import linear_model_io
from nlu.blend import blend
from nlu.sentence_features import has_sentence_features, sentence_matrix

logger = logging.getLogger(__name__)
MODEL_STEM = "logistic_regression"
LEGACY_FILE = "logistic_regression.skops"  # models saved before linear_model_io


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class BlendedIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression on the sparse features, averaged with the earlier ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            # Less regularisation and enough iterations to converge on ~50k features.
            "C": 10.0,
            "max_iter": 2000,
            # Share of the earlier classifier's (DIET's) confidence in the blend.
            "earlier_weight": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=self.config["C"], max_iter=self.config["max_iter"])

    # Rasa's train() builds its matrix here: the same rows as at prediction.
    def _create_X(self, messages: list[Message]) -> Any:
        return sentence_matrix(messages)

    # Rasa's LogisticRegressionClassifier names its file after the graph node, which breaks
    # when Rasa's training cache restores the trained component under another node name
    # (the same classifier at another position in a pipeline). A fixed name cannot clash.
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            linear_model_io.save(self.clf, model_dir, MODEL_STEM)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BlendedIntentClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                component.clf = linear_model_io.load(model_dir, MODEL_STEM, LEGACY_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("No trained %s in the model: it passes messages through.", cls.__name__)
            component.clf = None
        if component.clf is not None and execution_context.is_finetuning:
            # Fine-tuning (the admin's quick path) refits from the active model's weights:
            # a few lbfgs iterations instead of about a minute from zero.
            component.clf.set_params(warm_start=True)
        return component

    def train(self, training_data: TrainingData) -> Resource:
        if self.clf is not None and self.clf.get_params().get("warm_start"):
            try:
                return super().train(training_data)
            except ValueError:  # another shape than the base model's: from zero
                logger.info("%s: the base model does not fit the data, trained from zero.", self.name)
                self.clf.set_params(warm_start=False)
        return super().train(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.clf is None:
            return messages
        # An empty or whitespace-only message has no features: it keeps what DIET said
        # (no intent), and the fallback answers it.
        scorable = [m for m in messages if has_sentence_features(m)]
        if not scorable:
            return messages
        probabilities = self.clf.predict_proba(sentence_matrix(scorable))
        for message, row in zip(scorable, probabilities, strict=True):
            earlier = {
                str(entry["name"]): float(entry["confidence"])
                for entry in message.get("intent_ranking") or []
            }
            own = dict(zip((str(c) for c in self.clf.classes_), map(float, row), strict=True))
            ranking = blend(earlier, own, self.config["earlier_weight"])
            if self.config["ranking_length"] > 0:
                ranking = ranking[: self.config["ranking_length"]]
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

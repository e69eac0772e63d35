"""Picks the answer within a retrieval intent (faq/…, chitchat/…) with a logistic regression.

It takes the place of Rasa's `ResponseSelector`, which trains a TensorFlow network of its
own: for our 11 answers in two groups that network was 269 MB of the model (DIET is 67 MB),
most of Rasa's memory and model load time, for no better choice (README: "Choosing the
pipeline"). This fits scikit-learn's logistic regression on the same sparse sentence
features the intent classifiers see, labelled with the full key (`faq/is_it_free`), and
writes each group's prediction under `response_selector.<group>` exactly as Rasa's
ResponseSelector does, so Rasa's retrieval actions (`utter_faq`) answer from it unchanged.

Loaded by Rasa (in `.venv-rasa`) as `nlu.retrieval_selector.RetrievalSelector`; Rasa puts
the project directory on `sys.path`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import linear_model_io
from nlu.retrieval import per_group, prediction
from nlu.sentence_features import has_sentence_features, sentence_matrix

logger = logging.getLogger(__name__)
MODEL_STEM = "retrieval_regression"
LEGACY_FILE = "retrieval_regression.skops"  # models saved before linear_model_io
RESPONSES_FILE = "responses.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class RetrievalSelector(LogisticRegressionClassifier):
    """Logistic regression over the full retrieval keys; one prediction per group."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0, "max_iter": 2000}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=self.config["C"], max_iter=self.config["max_iter"])
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.retrieval_intents: list[str] = []
        self.trained = False
        self.only_key: str | None = None  # the answer when the data has just one

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples
                    if e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
                    and has_sentence_features(e)]
        self.responses = {str(k): list(v) for k, v in training_data.responses.items()}
        self.retrieval_intents = sorted(training_data.retrieval_intents)
        keys = sorted({str(e.get(INTENT_RESPONSE_KEY)) for e in examples})
        if len(keys) >= 2:
            self.clf.fit(sentence_matrix(examples), [str(e.get(INTENT_RESPONSE_KEY)) for e in examples])
            self.trained = True
        else:  # one answer (or none) needs no classifier
            self.trained = False
            self.only_key = keys[0] if keys else None
        self.persist()
        return self._resource

    # Rasa's train() builds its matrix here: the same rows as at prediction.
    def _create_X(self, messages: list[Message]) -> Any:
        return sentence_matrix(messages)

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            if self.trained:
                linear_model_io.save(self.clf, model_dir, MODEL_STEM)
            state = {"responses": self.responses, "retrieval_intents": self.retrieval_intents,
                     "only_key": self.only_key}
            (model_dir / RESPONSES_FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RetrievalSelector:
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                state = json.loads((model_dir / RESPONSES_FILE).read_text(encoding="utf-8"))
                component.responses = state["responses"]
                component.retrieval_intents = state["retrieval_intents"]
                component.only_key = state.get("only_key")
                if linear_model_io.exists(model_dir, MODEL_STEM, LEGACY_FILE):
                    component.clf = linear_model_io.load(model_dir, MODEL_STEM, LEGACY_FILE)
                    component.trained = True
        except (ValueError, FileNotFoundError):
            logger.warning("No trained %s in the model: it passes messages through.", cls.__name__)
        return component

    def process(self, messages: list[Message]) -> list[Message]:
        if self.trained:
            scorable = [m for m in messages if has_sentence_features(m)]
            rows = self.clf.predict_proba(sentence_matrix(scorable)) if scorable else []
            keys = [str(c) for c in self.clf.classes_]
            for message, row in zip(scorable, rows, strict=True):
                self._set(message, per_group(keys, [float(p) for p in row]))
        elif self.only_key:
            for message in messages:
                self._set(message, per_group([self.only_key], [1.0]))
        return messages

    def _set(self, message: Message, groups: dict[str, list[tuple[str, float]]]) -> None:
        properties: dict[str, Any] = {"all_retrieval_intents": self.retrieval_intents}
        for group, ranking in groups.items():
            properties[group] = prediction(ranking, self.responses)
        message.set("response_selector", properties, add_to_output=True)

"""A fast lexical stand-in for Rasa's cross-validation, for writing training data.

`rasa test nlu --cross-validation` with DIET takes about twenty minutes on two cores,
which is too slow to tell whether a new batch of examples separates two intents. This
script cross-validates a plain scikit-learn classifier on the same examples (word and
character n-grams, the sparse features our pipeline also uses) in a few seconds and
lists what it confuses. It is a proxy for finding confusable or mislabelled examples;
the figure the README reports always comes from Rasa itself (`make bench`).

Run with the Rasa environment, which has scikit-learn and PyYAML:

    .venv-rasa/bin/python -m bench.lexical_cv            # summary and worst pairs
    .venv-rasa/bin/python -m bench.lexical_cv --show 40  # plus misclassified examples
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def plain_text(example: str) -> str:
    """`vi sitter i [Köping](municipality)` -> `vi sitter i Köping`."""
    return ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), example).strip()


def load_examples(nlu_dir: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs; retrieval intents count as their base intent, as in Rasa."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            intent = str(block["intent"]).split("/")[0]
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((plain_text(line[2:]), intent))
    return pairs


def duplicated(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Texts (compared case-insensitively) that occur more than once, with their intents."""
    seen: dict[str, list[str]] = {}
    for text, intent in pairs:
        seen.setdefault(text.lower(), []).append(intent)
    return {text: intents for text, intents in seen.items() if len(intents) > 1}


def featurise(train: list[str], test: list[str]) -> tuple[object, object]:
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                           lowercase=True, max_features=30000)
    x_train = hstack([word.fit_transform(train), char.fit_transform(train)]).tocsr()
    x_test = hstack([word.transform(test), char.transform(test)]).tocsr()
    return x_train, x_test


def cross_validate(pairs: list[tuple[str, str]], folds: int, seed: int) -> list[str]:
    texts = [t for t, _ in pairs]
    labels = np.array([i for _, i in pairs])
    predicted = np.empty_like(labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, labels):
        x_train, x_test = featurise([texts[i] for i in train_idx], [texts[i] for i in test_idx])
        model = LinearSVC(C=0.5).fit(x_train, labels[train_idx])
        predicted[test_idx] = model.predict(x_test)
    return list(predicted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--show", type=int, default=0, help="misclassified examples to list")
    parser.add_argument("--intent", help="only list errors where this intent is involved")
    args = parser.parse_args(argv)

    pairs = load_examples(args.nlu)
    for text, intents in duplicated(pairs).items():
        print(f"DUPLICATE {text!r}: {', '.join(intents)}")
    predicted = cross_validate(pairs, args.folds, args.seed)
    truth = [i for _, i in pairs]
    report = classification_report(truth, predicted, output_dict=True, zero_division=0)
    per_intent = sorted(
        ((name, v["f1-score"], int(v["support"])) for name, v in report.items()
         if isinstance(v, dict) and name not in ("macro avg", "weighted avg")),
        key=lambda item: item[1],
    )
    print(f"{len(pairs)} examples, {len(per_intent)} intents, {args.folds}-fold")
    print(f"weighted F1 {report['weighted avg']['f1-score']:.3f}  "
          f"accuracy {report['accuracy']:.3f}")
    for name, f1, support in per_intent[:15]:
        print(f"  {f1:.3f}  {support:4d}  {name}")
    pairs_confused = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    print("most confused (true -> predicted):")
    for (t, p), n in pairs_confused.most_common(20):
        print(f"  {n:3d}  {t} -> {p}")
    shown = 0
    for (text, t), p in zip(pairs, predicted, strict=True):
        if t == p or shown >= args.show:
            continue
        if args.intent and args.intent not in (t, p):
            continue
        print(f"  [{t} -> {p}] {text}")
        shown += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

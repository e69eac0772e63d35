"""Compare intent classifiers on one fixed 80/20 split of the training data.

Five-fold cross-validation (`make bench`) costs five trainings per pipeline, about half
an hour each on two cores. This trains each candidate's NLU once on the same stratified
80 % (`rasa data split nlu`, fixed seed) and tests it on the other 20 %: one training
per candidate, so several can be compared in one sitting. Results go to
`bench/pipelines/holdout.json`.

`.venv/bin/python -m bench.holdout config.yml bench/pipelines/diet.yml ...`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.run import intent_f1
from core.settings import PROJECT_ROOT
from scripts.model import RASA, RASA_PYTHON, ensure_spacy, rasa_env

RESULTS = PROJECT_ROOT / "bench" / "pipelines" / "holdout.json"


def split(out: Path, seed: int) -> tuple[Path, Path]:
    subprocess.run(
        [str(RASA), "data", "split", "nlu", "--nlu", "data/nlu", "--training-fraction", "0.8",
         "--random-seed", str(seed), "--out", str(out)],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), stdout=subprocess.DEVNULL,
    )
    return out / "training_data.yml", out / "test_data.yml"


def measure(config: Path, train: Path, test: Path, work: Path) -> dict[str, Any]:
    name = config.stem
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(train),
         "--out", str(work), "--fixed-model-name", name],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), stdout=subprocess.DEVNULL,
    )
    seconds = round(time.monotonic() - started)
    report_dir = work / f"report-{name}"
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", str(test), "--model", str(work / f"{name}.tar.gz"),
         "--out", str(report_dir)],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), stdout=subprocess.DEVNULL,
    )
    figures = intent_f1(report_dir)
    return {
        "weighted_f1": figures["weighted_f1"],
        "macro_f1": figures["macro_f1"],
        "retrieval_accuracy": retrieval_accuracy(work / f"{name}.tar.gz", test, work),
        "nlu_training_seconds": seconds,
    }


def retrieval_accuracy(model: Path, test: Path, work: Path) -> float | None:
    """Share of the held-out faq/… and chitchat/… questions answered with their own answer
    (the intent and the answer within it both right), through `training.rasa_evaluate`."""
    wanted = {}
    for block in (yaml.safe_load(test.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "/" in str(block.get("intent", "")):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    wanted[line.strip()[2:].strip()] = block["intent"]
    if not wanted:
        return None
    questions = work / "retrieval-questions.yml"
    questions.write_text(yaml.safe_dump({"questions": [{"text": t} for t in wanted]}, allow_unicode=True),
                         encoding="utf-8")
    output = subprocess.run(
        [str(RASA_PYTHON), "-m", "training.rasa_evaluate", "--set", str(questions), str(model)],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), capture_output=True, text=True,
    ).stdout
    predicted = json.loads(output.strip().splitlines()[-1])[model.name]
    right = sum(1 for text, key in wanted.items() if predicted.get(text, {}).get("intent") == key)
    return round(right / len(wanted), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ensure_spacy()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory(prefix="holdout-") as tmp:
        work = Path(tmp)
        train, test = split(work / "split", args.seed)
        for config in args.configs:
            print(f"==> {config}: training on 80 %, testing on 20 % (seed {args.seed})", flush=True)
            measured = measure(config.resolve(), train, test, work)
            results[str(config)] = {"seed": args.seed, **measured}
            print(f"    weighted F1 {measured['weighted_f1']}, retrieval answers right "
                  f"{measured['retrieval_accuracy']}", flush=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

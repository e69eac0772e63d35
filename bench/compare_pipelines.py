"""Compare candidate NLU pipelines by measurement (README: "Choosing the pipeline").

For each `bench/pipelines/<name>.yml`: train a full model, cross-validate the intent
classifier, and score the dev set through a real Rasa server. Results go to
`bench/pipelines/results.json`.

`.venv/bin/python -m bench.compare_pipelines [--folds 5] [name ...]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import cross_validation, measure_stack
from core.settings import PROJECT_ROOT
from scripts.model import RASA, ensure_spacy, rasa_env

PIPELINES = PROJECT_ROOT / "bench" / "pipelines"
RESULTS = PIPELINES / "results.json"


def train(config: Path, out: Path) -> tuple[Path, int]:
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "train", "--config", str(config), "--domain", "domain.yml", "--data", "data",
         "--out", str(out), "--fixed-model-name", config.stem],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), stdout=subprocess.DEVNULL,
    )
    return out / f"{config.stem}.tar.gz", round(time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="candidates (default: all)")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    ensure_spacy()
    configs = [PIPELINES / f"{n}.yml" for n in args.names] or sorted(PIPELINES.glob("*.yml"))
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    out = PROJECT_ROOT / "var" / "bench-models"
    for config in configs:
        print(f"==> {config.stem}: training", flush=True)
        model, seconds = train(config, out)
        measured = asyncio.run(measure_stack(model, gateway=False))
        print(f"==> {config.stem}: cross-validating ({args.folds} folds)", flush=True)
        cv = cross_validation(config, args.folds)
        results[config.stem] = {
            "training_seconds": seconds,
            "cv_weighted_f1": cv["weighted_f1"],
            "cv_macro_f1": cv["macro_f1"],
            "cv_lowest_intents": dict(list(cv["per_intent_f1"].items())[:5]),
            "dev_top1": measured["dev_set"]["top1"],
            "dev_any_mention": measured["dev_set"]["any_mention"],
            "p50_ms_1_client": measured["latency_rest"]["1_client"]["p50_ms"],
            "model_load_seconds": measured["model_load_seconds"],
        }
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(results[config.stem], indent=2, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A stand-in for the `rasa` command and the evaluator, for the job runner's tests.

    python fake_rasa.py data validate --config C --domain D --data P
    python fake_rasa.py train --config C --domain D --data P --out O --fixed-model-name N [--finetune M ...]
    python fake_rasa.py evaluate --set S model.tar.gz ...

Behaviour from the environment: FAKE_RASA_VALIDATE_FAIL (validation prints a Rasa error
and exits 1), FAKE_RASA_TRAIN_FAIL, FAKE_RASA_EPOCH_SECONDS (per epoch, default 0.01),
FAKE_RASA_EPOCHS (default 4), FAKE_RASA_REFUSE_FINETUNE (a --finetune training exits
as Rasa does when the base model's fingerprints differ), FAKE_RASA_CALLS (a file each
call's argv is appended to), FAKE_RASA_VALIDATE_SECONDS (validation is silent this long, longer than a heartbeat).
The model is a real tar.gz with Rasa's metadata.json (the domain), as the registry reads it.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import yaml


def _arg(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def train(argv: list[str]) -> int:
    epochs = int(os.environ.get("FAKE_RASA_EPOCHS", "4"))
    pause = float(os.environ.get("FAKE_RASA_EPOCH_SECONDS", "0.01"))
    print("INFO rasa.engine.training.hooks - Restored component 'CountVectorsFeaturizer' from cache.", flush=True)
    print("INFO rasa.engine.training.hooks - Starting to train component 'DIETClassifier'.", flush=True)
    for epoch in range(1, epochs + 1):
        time.sleep(pause)
        percent = epoch * 100 // epochs
        sys.stdout.write(f"\rEpochs: {percent:3d}%|###| {epoch}/{epochs} [00:0{epoch}<00:0{epochs - epoch}, 1.0it/s]")
        sys.stdout.flush()
    print()
    if os.environ.get("FAKE_RASA_TRAIN_FAIL"):
        print("ERROR rasa.main - MemoryError", flush=True)
        return 1
    if os.environ.get("FAKE_RASA_REFUSE_FINETUNE") and "--finetune" in argv:  # Rasa's own wording
        print("InvalidConfigException: Cannot finetune because keys that affect the training of core "
              "components have changed.", flush=True)
        return 1
    domain = yaml.safe_load(Path(_arg(argv, "--domain")).read_text(encoding="utf-8"))
    out = Path(_arg(argv, "--out"))
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out / f"{_arg(argv, '--fixed-model-name')}.tar.gz", "w:gz") as archive:
        body = json.dumps({"domain": domain}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return 0


def evaluate(argv: list[str]) -> int:
    questions = yaml.safe_load(Path(_arg(argv, "--set")).read_text(encoding="utf-8"))["questions"]
    models = [a for a in argv if a.endswith(".tar.gz")]
    wrong = os.environ.get("FAKE_RASA_WRONG", "")  # a question the (new) model gets wrong
    result = {}
    for index, model in enumerate(models):
        predictions = {}
        for q in questions:
            intent = q["intent"]
            if index == 0 and q["text"] == wrong:
                intent = "greet"
            predictions[q["text"]] = {"intent": intent, "confidence": 0.9}
        result[Path(model).name] = predictions
    print("loading models ...")
    print(json.dumps(result, ensure_ascii=False))
    return 0


def main() -> int:
    argv = sys.argv[1:]
    calls = os.environ.get("FAKE_RASA_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(json.dumps(argv) + "\n")
    if argv[:2] == ["data", "validate"]:
        time.sleep(float(os.environ.get("FAKE_RASA_VALIDATE_SECONDS", "0")))  # silent, like Rasa loading
        if os.environ.get("FAKE_RASA_VALIDATE_FAIL"):
            print("UserWarning: The example 'hej' was found labeled with multiple different intents in the data.")
            return 1
        print("Everything is fine")
        return 0
    if argv[0] == "train":
        return train(argv)
    if argv[0] == "evaluate":
        return evaluate(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())

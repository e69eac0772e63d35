"""Build the spaCy pipeline and train the Rasa model when (and only when) their inputs change.

The model is named after the fingerprint of everything it is trained from, so "is there a
model for this data?" is a file lookup: a second `make run` with nothing changed starts at
once. Run with the app environment: `.venv/bin/python -m scripts.model ensure`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
SPACY_DIR = PROJECT_ROOT / "models" / "spacy" / "sv_foretagsstod"

# What the spaCy pipeline is built from. Not the directory: organisations and schemes are
# recognised at answer time from the database (directory/mentions.py), so the model (and
# its fingerprint) does not change when an admin edits a name or an alias.
SPACY_INPUTS = ("nlu", "data/nlu", "requirements/rasa.lock")
# What the Rasa model is trained from (the spaCy pipeline included).
TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
MODEL_INPUTS = (*SPACY_INPUTS, "config.yml", "domain.yml", *TRAINING_DATA)


def _files(paths: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = PROJECT_ROOT / name
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            found.append(path)
    return found


def fingerprint(paths: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for path in _files(paths):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(model_dir: Path | None = None) -> Path:
    return (model_dir or PROJECT_ROOT / "models") / f"model-{fingerprint(MODEL_INPUTS)}.tar.gz"


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # Rasa 3.6 adds the retrieval actions (utter_faq, utter_chitchat) to the domain in the
    # order of a set of strings, which changes with Python's hash seed: the domain's
    # fingerprint then differs between two trainings of the same project, and fine-tuning
    # (the admin's quick path) refuses about every other time ("keys that affect the
    # training of core components have changed"). One seed for every Rasa run.
    env["PYTHONHASHSEED"] = "0"
    return env


@contextlib.contextmanager
def _one_builder() -> Iterator[None]:
    """One build at a time: `make test` runs two chains that both need the model (and a
    developer may start `make run` beside it). The second waits, then finds it built."""
    lock_path = PROJECT_ROOT / "models" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_spacy() -> None:
    with _one_builder():
        _ensure_spacy()


def _ensure_spacy() -> None:
    stamp = SPACY_DIR / ".fingerprint"
    wanted = fingerprint(SPACY_INPUTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print("==> Building the Swedish spaCy pipeline", flush=True)
    subprocess.run([str(RASA_PYTHON), "-m", "nlu.build_spacy_model", str(SPACY_DIR)],
                   cwd=PROJECT_ROOT, check=True, env=rasa_env())
    stamp.write_text(wanted)


def ensure_model(force: bool = False) -> Path:
    with _one_builder():
        return _ensure_model(force)


def _ensure_model(force: bool) -> Path:
    _ensure_spacy()
    target = model_path()
    if target.exists() and not force:
        print(f"==> Model is up to date: {target.relative_to(PROJECT_ROOT)}", flush=True)
        return target
    print(f"==> Training {target.name} (the data changed; this takes a few minutes)", flush=True)
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", *TRAINING_DATA,
         "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz")],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(),
    )
    seconds = round(time.monotonic() - started)
    # Kept beside the model for `make bench`.
    target.with_suffix("").with_suffix(".json").write_text(json.dumps({"training_seconds": seconds}))
    print(f"==> Trained in {seconds} s", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["ensure", "path", "fingerprint", "spacy"])
    parser.add_argument("--force", action="store_true", help="train even if a model exists")
    args = parser.parse_args(argv)
    if args.command == "ensure":
        print(ensure_model(force=args.force))
    elif args.command == "spacy":
        ensure_spacy()
    elif args.command == "path":
        path = model_path()
        if not path.exists():
            print(f"No model for the current data ({path.name}); run `make model`.", file=sys.stderr)
            return 1
        print(path)
    else:
        print(fingerprint(MODEL_INPUTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

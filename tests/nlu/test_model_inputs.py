"""The model is trained from the training data only: no directory content.

Organisations and schemes are recognised at answer time from the database
(directory/mentions.py), so a directory edit (a new alias included) needs no new model.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from scripts import model


def test_no_model_input_is_the_directory() -> None:
    for path in (*model.MODEL_INPUTS, *model.SPACY_INPUTS):
        assert path != "data" and not path.startswith("data/directory"), path


def test_editing_the_directory_keeps_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*model.TRAINING_DATA, "data/directory", "nlu"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "a.yml").write_text("x")
    monkeypatch.setattr(model, "PROJECT_ROOT", tmp_path)
    before = model.fingerprint(model.MODEL_INPUTS)
    (tmp_path / "data" / "directory" / "a.yml").write_text("aliases: [Pengabolaget]")
    assert model.fingerprint(model.MODEL_INPUTS) == before
    (tmp_path / "data" / "nlu" / "a.yml").write_text("a new example")
    assert model.fingerprint(model.MODEL_INPUTS) != before


def test_the_spacy_builder_reads_no_directory_file() -> None:
    source = (model.PROJECT_ROOT / "nlu" / "build_spacy_model.py").read_text(encoding="utf-8")
    assert "organisations.yml" not in source and "schemes.yml" not in source


def test_two_builds_at_once_train_once_and_both_get_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make test` runs two chains that both need the model: the second waits for the first."""
    for name in (*model.TRAINING_DATA, "nlu"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "a.yml").write_text("x")
    monkeypatch.setattr(model, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(model, "SPACY_DIR", tmp_path / "models" / "spacy")
    runs: list[str] = []

    def fake_run(args: list[str], **_: object) -> None:
        if "train" in args:
            runs.append("train")
            time.sleep(0.3)  # long enough for the other build to arrive meanwhile
            out = Path(args[args.index("--out") + 1])
            (out / f"{args[args.index('--fixed-model-name') + 1]}.tar.gz").write_bytes(b"model")
        else:
            runs.append("spacy")
            (tmp_path / "models" / "spacy").mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr("scripts.model.subprocess.run", fake_run)
    got: list[Path] = []
    builders = [threading.Thread(target=lambda: got.append(model.ensure_model())) for _ in range(2)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    assert runs == ["spacy", "train"]
    assert got == [model.model_path(), model.model_path()] and got[0].exists()

"""The model is trained from the training data only: no directory content.

Organisations and schemes are recognised at answer time from the database
(directory/mentions.py), so a directory edit (a new alias included) needs no new model.
"""

from __future__ import annotations

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

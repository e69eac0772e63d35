"""Which training a change needs: the fingerprints of an exported project and the choice
between reusing a model, fine-tuning the active one, and a full training (plain functions).

- The same project as a model we already have: no training, that model is used again.
- The same label set as the active model (intents, retrieval answers, entities, slots,
  actions, forms), e.g. an example added, moved or removed or an answer's text changed:
  Rasa's `--finetune` from the active model with a fraction of the epochs
  (`--epoch-fraction`). Fine-tuning cannot add a label, so
- a new or retired intent, a new retrieval answer or another label change: a full
  training. Rasa's training cache (under the project root) still restores every
  component whose inputs did not change, e.g. the dialogue policies when only NLU
  data changed, which `rasa train nlu` alone could not give us (an NLU-only model has no
  dialogue and cannot be served).
docs/training.md has the measured times of each path.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FULL = "full"
FINETUNE = "finetune"
UNCHANGED = "unchanged"

MODE_NAMES = {FULL: "Full träning", FINETUNE: "Snabb (finjustering)", UNCHANGED: "Ingen träning behövs",
              "developer": "Tränad av utvecklare"}


@dataclass(frozen=True)
class Fingerprints:
    project: str  # everything Rasa reads
    labels: str  # the label set: what fine-tuning must not change
    dialogue: str  # config, domain, rules and stories: what the dialogue policies learn from


@dataclass(frozen=True)
class Known:
    """A model we could reuse or build on."""

    file_name: str
    fingerprint: str
    labels: str


@dataclass(frozen=True)
class Plan:
    mode: str
    reason: str  # Swedish, shown before and during the training
    base_model: str | None = None  # fine-tune from / reuse this file

    @property
    def mode_name(self) -> str:
        return MODE_NAMES[self.mode]


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _names(items: Any) -> list[str]:
    if isinstance(items, Mapping):
        return sorted(str(k) for k in items)
    return sorted(str(next(iter(i))) if isinstance(i, Mapping) else str(i) for i in items or [])


def label_set(domain: Mapping[str, Any]) -> dict[str, list[str]]:
    """What a trained model's classifiers and policies have one output for each of."""
    responses = _names(domain.get("responses"))
    return {
        "intents": _names(domain.get("intents")),
        "entities": _names(domain.get("entities")),
        "slots": _names(domain.get("slots")),
        # Custom actions only: a trained model's domain also lists utter_faq, utter_chitchat
        # (Rasa adds one per retrieval intent), which the intents already account for.
        "actions": [a for a in _names(domain.get("actions")) if not a.startswith("utter_")],
        "forms": _names(domain.get("forms")),
        # The retrieval selector has one label per retrieval answer (utter_faq/<key>).
        "retrieval": [r for r in responses if "/" in r],
        "responses": [r for r in responses if "/" not in r],
    }


def labels_fingerprint(domain: Mapping[str, Any]) -> str:
    return _digest([json.dumps(label_set(domain), sort_keys=True).encode()])


def project_fingerprints(project_dir: Path, extra_inputs: Iterable[Path] = ()) -> Fingerprints:
    """Fingerprints of an exported project (config.yml, domain.yml, data/...) and of the
    code and pipeline files it is trained with (`extra_inputs`)."""
    files = [project_dir / "config.yml", project_dir / "domain.yml"]
    files += sorted((project_dir / "data").rglob("*.yml"))
    extra = sorted(p for path in extra_inputs for p in ([path] if path.is_file() else path.rglob("*.py")))
    everything = _digest(
        str(p.relative_to(project_dir) if p.is_relative_to(project_dir) else p.name).encode() + b"\0" + p.read_bytes()
        for p in [*files, *extra]
    )
    domain = yaml.safe_load((project_dir / "domain.yml").read_text(encoding="utf-8")) or {}
    dialogue_files = [project_dir / "config.yml"]
    dialogue_files += sorted((project_dir / "data" / "rules").glob("*.yml"))
    dialogue_files += sorted((project_dir / "data" / "stories").glob("*.yml"))
    without_responses = {k: v for k, v in domain.items() if k != "responses"}
    dialogue = _digest([json.dumps(without_responses, sort_keys=True, default=str).encode(),
                        *(p.read_bytes() for p in dialogue_files)])
    return Fingerprints(everything, labels_fingerprint(domain), dialogue)


def model_labels(model_file: Path) -> str:
    """The label fingerprint of a trained Rasa 3 model, from the domain it keeps. Streamed:
    the domain provider's domain.yml comes early in the archive (metadata.json, which also
    has the domain, comes last, after 150 MB of components in the shipped model)."""
    with tarfile.open(model_file, "r|gz") as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if name == "components/domain_provider/domain.yml" or name == "metadata.json":
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if name == "metadata.json":
                    return labels_fingerprint(json.loads(handle.read()).get("domain") or {})
                return labels_fingerprint(yaml.safe_load(handle.read()) or {})
    return ""


def choose(new: Fingerprints, active: Known | None, existing: Iterable[Known]) -> Plan:
    """The cheapest training that gives a model of the new project."""
    for model in existing:
        if model.fingerprint == new.project:
            return Plan(UNCHANGED, (
                f"Innehållet är detsamma som när modellen {model.file_name} tränades, så den "
                "används igen utan ny träning."), model.file_name)
    if active is None or not active.labels:
        return Plan(FULL, (
            "Det finns ingen aktiv modell att bygga vidare på, så hela träningen behövs. "
            "Den tar längre tid (ungefär 8–20 minuter)."))
    if active.labels != new.labels:
        return Plan(FULL, (
            "En avsikt eller ett frågesvar har lagts till eller tagits bort sedan den aktiva modellen "
            "tränades. Då behövs hela träningen, som tar längre tid (ungefär 8–20 minuter). "
            "Det som inte ändrats hämtas ur Rasas cache."))
    return Plan(FINETUNE, (
        "Samma avsikter och svar som den aktiva modellen: den finjusteras med de ändrade exemplen "
        "på en bråkdel av tiden (ungefär 2–3 minuter)."), active.file_name)

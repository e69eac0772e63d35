"""Write the database's content out as a Rasa 3.6 project.

`write_rasa_project(session, target_dir)` writes target_dir/{config.yml, domain.yml,
data/nlu/*.yml, data/rules/*.yml, data/stories/*.yml}: what training reads (helper B's
workspace under var/training/<job>/) and what `python -m content export` writes back into
the repository for a developer to commit.

- Intents, examples and responses come from the database; retired intents are left out,
  with their responses and any rule or story that mentions them.
- One-step rules are generated from the intents' `action` and `rule_title` (intents with
  the same title and action share one rule with an `or`); other rules and the stories are
  written as kept.
- The rest of the domain (entities, slots, actions, session settings) and config.yml are
  the developer's and are copied from the template project (the repository).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from content.models import REFERRAL, RETRIEVAL, DialogueBlock, Intent, Response
from content.validation import MIN_EXAMPLES, response_problems
from core.settings import PROJECT_ROOT
from directory.models import TopicTarget

RASA_VERSION = "3.1"
# Intents Rasa knows without training data (a rule may mention them).
RASA_INTENTS = frozenset({"nlu_fallback", "restart", "back", "session_start", "out_of_scope"})
HEADER = (
    "# Written by `python -m content export` from the database, the source of truth for\n"
    "# intents, examples and responses (docs/admin.md). Edit them in the admin pages.\n"
)


@dataclass(frozen=True)
class ExportIntent:
    name: str
    kind: str
    action: str
    rule_title: str
    nlu_file: str
    examples: tuple[str, ...]

    @property
    def group(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass
class Project:
    """The content as Rasa will see it (active intents only), and what was left out."""

    intents: list[ExportIntent] = field(default_factory=list)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    blocks: list[DialogueBlock] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(i.group for i in self.intents))


def load_project(session: Session) -> Project:
    project = Project()
    rows = session.scalars(select(Intent).options(selectinload(Intent.examples)).order_by(Intent.position, Intent.id))
    retired_responses = set()
    for row in rows:
        if row.retired:
            project.left_out.append(f"intent {row.name} (retired)")
            if row.response:
                retired_responses.add(row.response)
            continue
        project.intents.append(ExportIntent(
            row.name, row.kind, row.action, row.rule_title, row.nlu_file, tuple(e.text for e in row.examples)
        ))
    known_intents = set(project.groups) | RASA_INTENTS
    for response in session.scalars(select(Response).order_by(Response.position, Response.id)):
        if response.name in retired_responses:
            project.left_out.append(f"response {response.name} (its intent is retired)")
            continue
        project.responses[response.name] = [dict(v) for v in response.variations]
    for block in session.scalars(select(DialogueBlock).order_by(DialogueBlock.position, DialogueBlock.id)):
        missing = sorted(set(_intents_in(block.body)) - known_intents)
        missing_responses = sorted(
            a for a in _actions_in(block.body) if a.startswith("utter_") and not _response_known(a, project)
        )
        if block.kind == "nlu" or not (missing or missing_responses):
            project.blocks.append(block)
        else:
            project.left_out.append(f"{block.kind} “{block.name}” (mentions {', '.join(missing + missing_responses)})")
    return project


def _response_known(action: str, project: Project) -> bool:
    # utter_faq answers every faq/* response (the retrieval selector, nlu/retrieval_selector.py, picks one).
    return action in project.responses or any(name.startswith(action + "/") for name in project.responses)


def _intents_in(body: Mapping[str, Any]) -> Iterable[str]:
    for step in body.get("steps") or []:
        if "intent" in step:
            yield str(step["intent"])
        for option in step.get("or") or []:
            if "intent" in option:
                yield str(option["intent"])


def _actions_in(body: Mapping[str, Any]) -> Iterable[str]:
    for step in body.get("steps") or []:
        if "action" in step:
            yield str(step["action"])


def generated_rules(project: Project) -> list[dict[str, Any]]:
    """One rule per (title, action): `intent -> action`, or an `or` of intents."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for intent in project.intents:
        if intent.action:
            names = grouped.setdefault((intent.rule_title, intent.action), [])
            if intent.group not in names:
                names.append(intent.group)
    rules = []
    for (title, action), names in grouped.items():
        first: dict[str, Any] = {"intent": names[0]} if len(names) == 1 else {"or": [{"intent": n} for n in names]}
        rules.append({"rule": title or f"{names[0]} -> {action}", "steps": [first, {"action": action}]})
    return rules


# ---------------------------------------------------------------- YAML


class _Literal(str):
    """A string written as a YAML literal block (`examples: |`)."""


# libyaml's emitter when PyYAML was built with it: ten times faster on 8,000 examples.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    pass


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


_Dumper.add_representer(_Literal, _literal)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000)


def _write(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + dump(dict(data)), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the project


def domain(project: Project, template: Mapping[str, Any]) -> dict[str, Any]:
    listed = {}
    for item in template.get("intents") or []:
        listed[next(iter(item)) if isinstance(item, dict) else str(item)] = item
    out: dict[str, Any] = {"version": RASA_VERSION, "intents": [listed.get(g, g) for g in project.groups]}
    for key, value in template.items():
        if key in ("version", "intents"):
            continue
        out[key] = project.responses if key == "responses" else value
    out.setdefault("responses", project.responses)
    return out


def write_project(project: Project, target_dir: Path, template_dir: Path = PROJECT_ROOT) -> list[Path]:
    """Write the project's files into target_dir (replacing the Rasa data files there);
    returns the paths written."""
    target_dir.mkdir(parents=True, exist_ok=True)
    template = yaml.safe_load((template_dir / "domain.yml").read_text(encoding="utf-8")) or {}
    written: list[Path] = []
    if (template_dir / "config.yml").resolve() != (target_dir / "config.yml").resolve():
        shutil.copyfile(template_dir / "config.yml", target_dir / "config.yml")
    written.append(target_dir / "config.yml")
    for kind in ("nlu", "rules", "stories"):
        for old in (target_dir / "data" / kind).glob("*.yml"):
            old.unlink()
    written.append(_write(target_dir / "domain.yml", domain(project, template)))

    nlu: dict[str, list[dict[str, Any]]] = {}
    for intent in project.intents:
        examples = _Literal("".join(f"- {text}\n" for text in intent.examples))
        nlu.setdefault(intent.nlu_file, []).append({"intent": intent.name, "examples": examples})
    rules: dict[str, list[dict[str, Any]]] = {"rules": generated_rules(project)}
    stories: dict[str, list[dict[str, Any]]] = {}
    for block in project.blocks:
        target = {"nlu": nlu, "rule": rules, "story": stories}[block.kind]
        target.setdefault(block.file, []).append(dict(block.body))
    for folder, key, files in (("nlu", "nlu", nlu), ("rules", "rules", rules), ("stories", "stories", stories)):
        for file_name, entries in files.items():
            path = target_dir / "data" / folder / f"{file_name}.yml"
            written.append(_write(path, {"version": RASA_VERSION, key: entries}))
    return written


def write_rasa_project(session: Session, target_dir: Path) -> None:
    """Export the database's content into target_dir as a Rasa 3.6 project (config.yml,
    domain.yml, data/nlu, data/rules, data/stories). From the gateway's asyncio code:
    `await session.run_sync(write_rasa_project, target_dir)`."""
    write_project(load_project(session), Path(target_dir))


# ---------------------------------------------------------------- before training


def template_slots(template_dir: Path = PROJECT_ROOT) -> set[str]:
    template = yaml.safe_load((template_dir / "domain.yml").read_text(encoding="utf-8")) or {}
    return set((template.get("slots") or {}).keys())


def project_problems(project: Project, topic_targets: Mapping[str, int], slots: set[str]) -> list[str]:
    """What would make a training fail or the trained assistant misbehave, in Swedish."""
    problems = []
    intents = set(project.groups)
    for intent in project.intents:
        if len(intent.examples) < MIN_EXAMPLES:
            problems.append(
                f"Avsikten {intent.name} har {len(intent.examples)} exempel; den behöver minst {MIN_EXAMPLES}."
            )
        if intent.kind == REFERRAL and topic_targets.get(intent.name, 0) == 0:
            problems.append(
                f"Avsikten {intent.name} hänvisar, men ämnet {intent.name} i katalogen har ingen mottagare."
            )
        if intent.action.startswith("utter_") and not _response_known(intent.action, project):
            problems.append(f"Avsikten {intent.name} besvaras med {intent.action}, men det svaret finns inte.")
        if intent.kind == RETRIEVAL and f"utter_{intent.name}" not in project.responses:
            problems.append(f"Avsikten {intent.name} saknar sitt svar utter_{intent.name}.")
    for name, variations in project.responses.items():
        for problem in response_problems(variations, slots, intents):
            problems.append(f"Svaret {name}: {problem.message}")
    return problems


def check_project(session: Session, template_dir: Path = PROJECT_ROOT) -> list[str]:
    """`project_problems` for the database's content (empty: ready to train)."""
    counts = session.execute(select(TopicTarget.topic_id, func.count()).group_by(TopicTarget.topic_id))
    topic_targets = {str(topic): int(count) for topic, count in counts}
    return project_problems(load_project(session), topic_targets, template_slots(template_dir))

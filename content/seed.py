"""Seed the content tables from the Rasa project's files, idempotently.

Read: domain.yml (intents, their order, responses), data/nlu/*.yml (examples),
data/rules/*.yml and data/stories/*.yml. A one-step rule `intent (or intents) -> action`
becomes the intents' `action` and `rule_title`; every other rule and every story is kept
as written (a DialogueBlock).

Like the directory's seeder (directory/seed.py): a row is written when it is new or still
holds exactly what the seeder last wrote (its content hashes to `seed_hash`); a row an
admin changed since is left alone and reported. Nothing is deleted: an intent no longer in
the files stays (and is reported) until an admin retires it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.models import CONVERSATION, REFERRAL, REFERRAL_ACTION, RETRIEVAL, DialogueBlock, Example, Intent, Response
from content.validation import clean_example, example_key
from core.settings import PROJECT_ROOT
from directory.models import Topic
from directory.seed import SeedError, SeedReport, content_hash
from directory.seed import load_seed as load_directory_seed

NLU_BLOCK_KEYS = ("synonym", "regex", "lookup")
DESCRIPTIONS = Path(__file__).resolve().parent / "descriptions.yml"
# libyaml's parser when PyYAML was built with it (safe either way).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
INTENT_FIELDS = ("kind", "description", "action", "response", "rule_title", "nlu_file", "retired")


@dataclass
class ContentSeed:
    intents: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ContentReport(SeedReport):
    not_in_files: list[str] = field(default_factory=list)
    skipped_examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = super().summary()
        if self.not_in_files:
            text += f"; {len(self.not_in_files)} only in the database ({', '.join(self.not_in_files[:5])})"
        if self.skipped_examples:
            text += f"; {len(self.skipped_examples)} examples skipped (already under another intent)"
        return text


# ---------------------------------------------------------------- canonical forms


def variation_from_yaml(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One response variation: text, buttons if any, and any other key as written."""
    variation: dict[str, Any] = {"text": str(entry.get("text") or "")}
    buttons = [{"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
               for b in entry.get("buttons") or []]
    if buttons:
        variation["buttons"] = buttons
    variation.update({k: v for k, v in entry.items() if k not in ("text", "buttons")})
    return variation


def intent_fields(row: Intent) -> dict[str, Any]:
    """An intent's own fields (what its audit entries hold), without the examples."""
    return {
        "name": row.name, "kind": row.kind, "description": row.description, "action": row.action,
        "response": row.response, "rule_title": row.rule_title, "nlu_file": row.nlu_file,
        "retired": row.retired,
    }


def intent_from_row(row: Intent) -> dict[str, Any]:
    return {**intent_fields(row), "examples": [e.text for e in row.examples]}


def intent_hash(data: Mapping[str, Any]) -> str:
    """The order of the examples does not matter (the database keeps them by id)."""
    return content_hash({**data, "examples": sorted(data["examples"])})


def response_from_row(row: Response) -> dict[str, Any]:
    return {"name": row.name, "variations": list(row.variations)}


def block_from_row(row: DialogueBlock) -> dict[str, Any]:
    return {"kind": row.kind, "name": row.name, "file": row.file, "body": row.body}


# ---------------------------------------------------------------- reading the files


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_LOADER) or {}
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping")
    return data


def _intent_names(domain: Mapping[str, Any]) -> list[str]:
    names = []
    for item in domain.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def _examples(block: object, where: str) -> list[str]:
    if not isinstance(block, str):
        raise SeedError(f"{where}: examples must be a block of '- text' lines")
    texts = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            texts.append(clean_example(line[2:]))
        elif line:
            raise SeedError(f"{where}: a line that is not an example: {line!r}")
    return [t for t in texts if t]


def _simple_rule(rule: Mapping[str, Any]) -> tuple[list[str], str] | None:
    """(intents, action) of a rule `intent (or an `or` of intents) -> action`, else None."""
    if set(rule) - {"rule", "steps"}:
        return None
    steps = rule.get("steps") or []
    if len(steps) != 2 or set(steps[1]) != {"action"}:
        return None
    first = steps[0]
    if set(first) == {"intent"}:
        return [str(first["intent"])], str(steps[1]["action"])
    if set(first) == {"or"} and all(set(option) == {"intent"} for option in first["or"]):
        return [str(option["intent"]) for option in first["or"]], str(steps[1]["action"])
    return None


def load_seed(project: Path = PROJECT_ROOT, topic_ids: Iterable[str] = (),
              descriptions: Path = DESCRIPTIONS) -> ContentSeed:
    """The content of the project's files in canonical form. `topic_ids`: the directory
    topics (a rule to action_referral makes an intent a referral intent when its topic exists);
    `descriptions`: what each intent means, in Swedish, for the admins."""
    topics = set(topic_ids)
    described = (_read(descriptions).get("descriptions") or {}) if descriptions.exists() else {}
    domain = _read(project / "domain.yml")
    order = {name: i for i, name in enumerate(_intent_names(domain))}
    seed = ContentSeed()

    examples: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    for path in sorted((project / "data" / "nlu").glob("*.yml")):
        for entry in _read(path).get("nlu") or []:
            if "intent" in entry:
                name = str(entry["intent"])
                examples.setdefault(name, []).extend(_examples(entry.get("examples"), f"{path.name}: {name}"))
                files.setdefault(name, path.stem)
            else:
                kind = next((k for k in NLU_BLOCK_KEYS if k in entry), None)
                if kind is None:
                    raise SeedError(f"{path.name}: unknown NLU entry {sorted(entry)}")
                seed.blocks.append({"kind": "nlu", "name": f"{kind}:{entry[kind]}", "file": path.stem,
                                    "body": dict(entry)})

    groups = {name.split("/", 1)[0] for name in examples}
    bindings: dict[str, tuple[str, str]] = {}  # intent -> (action, rule title)
    for path in sorted((project / "data" / "rules").glob("*.yml")):
        for rule in _read(path).get("rules") or []:
            simple = _simple_rule(rule)
            # A rule becomes the intents' binding only when each is an intent of ours
            # (`nlu_fallback` is Rasa's and `faq` stands for faq/*), bound once.
            if (simple is not None and path.stem == "rules"
                    and all(i in groups and i not in bindings for i in simple[0])):
                for intent in simple[0]:
                    bindings[intent] = (simple[1], str(rule.get("rule") or ""))
            else:
                seed.blocks.append({"kind": "rule", "name": str(rule.get("rule")), "file": path.stem,
                                    "body": dict(rule)})
    for path in sorted((project / "data" / "stories").glob("*.yml")):
        for story in _read(path).get("stories") or []:
            seed.blocks.append({"kind": "story", "name": str(story.get("story")), "file": path.stem,
                                "body": dict(story)})

    for name in sorted(examples, key=lambda n: (order.get(n.split("/", 1)[0], len(order)), n)):
        group = name.split("/", 1)[0]
        action, title = bindings.get(name) or bindings.get(group) or ("", "")
        if "/" in name:
            kind, response = RETRIEVAL, f"utter_{name}"
        elif action == REFERRAL_ACTION and name in topics:
            kind, response = REFERRAL, None
        else:
            kind, response = CONVERSATION, action if action.startswith("utter_") else None
        seed.intents.append({
            "name": name, "kind": kind, "description": str(described.get(name) or ""), "action": action,
            "response": response,
            "rule_title": title, "nlu_file": files[name], "retired": False,
            "examples": list(dict.fromkeys(examples[name])),
        })
    for name, variations in (domain.get("responses") or {}).items():
        seed.responses.append({"name": str(name), "variations": [variation_from_yaml(v) for v in variations]})
    return seed


# ---------------------------------------------------------------- writing the tables


def seed_content(session: Session, project: Path = PROJECT_ROOT) -> ContentReport:
    topic_ids = set(session.scalars(select(Topic.id)))
    directory = project / "data" / "directory"
    if (directory / "topics.yml").exists():
        topic_ids |= {t["id"] for t in load_directory_seed(directory)["topics"]}
    seed = load_seed(project, topic_ids)
    report = ContentReport()
    _seed_intents(session, seed.intents, report)
    _seed_responses(session, seed.responses, report)
    _seed_blocks(session, seed.blocks, report)
    return report


def _seed_intents(session: Session, entries: Sequence[dict[str, Any]], report: ContentReport) -> None:
    rows = {r.name: r for r in session.scalars(select(Intent).options(selectinload(Intent.examples)))}
    seeded_names = {e["name"] for e in entries}
    report.not_in_files += sorted(f"intents/{n}" for n, r in rows.items() if n not in seeded_names and not r.retired)
    to_write: list[tuple[Intent, dict[str, Any]]] = []
    for position, data in enumerate(entries):
        key = f"intents/{data['name']}"
        wanted = intent_hash(data)
        row = rows.get(data["name"])
        if row is None:
            row = Intent(name=data["name"], position=position)
            session.add(row)
            report.inserted.append(key)
        else:
            current = intent_hash(intent_from_row(row))
            if current == wanted:
                row.seed_hash = wanted
                report.unchanged.append(key)
                continue
            if current != row.seed_hash:
                report.kept_admin_edit.append(key)
                continue
            report.updated.append(key)
        for attr in INTENT_FIELDS:
            setattr(row, attr, data[attr])
        row.position = position
        to_write.append((row, data))
    # First take out the examples the files no longer have (one may have moved to another
    # intent), then add the new ones.
    for row, data in to_write:
        keep = set(data["examples"])
        row.examples = [e for e in row.examples if e.text in keep]
    session.flush()
    taken = {k: n for k, n in session.execute(select(Example.key, Intent.name).join(Intent))}
    for row, data in to_write:
        have = {e.text for e in row.examples}
        for text in data["examples"]:
            key = example_key(text)
            if text in have:
                continue
            if key in taken:
                report.skipped_examples.append(f"{data['name']}: {text} (under {taken[key]})")
                continue
            row.examples.append(Example(text=text, key=key, source="seed"))
            taken[key] = data["name"]
    session.flush()
    for row, _data in to_write:
        # What the row holds now (an example skipped above makes it differ from the files).
        row.seed_hash = intent_hash(intent_from_row(row))


def _seed_responses(session: Session, entries: Sequence[dict[str, Any]], report: ContentReport) -> None:
    rows = {r.name: r for r in session.scalars(select(Response))}
    for position, data in enumerate(entries):
        key = f"responses/{data['name']}"
        wanted = content_hash(data)
        row = rows.get(data["name"])
        if row is None:
            session.add(Response(name=data["name"], variations=data["variations"], position=position,
                                 seed_hash=wanted))
            report.inserted.append(key)
            continue
        current = content_hash(response_from_row(row))
        if current == wanted:
            row.seed_hash = wanted
            report.unchanged.append(key)
        elif current == row.seed_hash:
            row.variations, row.seed_hash = data["variations"], wanted
            report.updated.append(key)
        else:
            report.kept_admin_edit.append(key)
    session.flush()


def _seed_blocks(session: Session, entries: Sequence[dict[str, Any]], report: ContentReport) -> None:
    rows = {(r.kind, r.name): r for r in session.scalars(select(DialogueBlock))}
    for position, data in enumerate(entries):
        key = f"{data['kind']}s/{data['name']}"
        wanted = content_hash(data)
        row = rows.get((data["kind"], data["name"]))
        if row is None:
            row = DialogueBlock(kind=data["kind"], name=data["name"], file=data["file"], body=data["body"],
                                position=position, seed_hash=wanted)
            session.add(row)
            rows[(row.kind, row.name)] = row
            report.inserted.append(key)
            continue
        current = content_hash(block_from_row(row))
        if current == wanted:
            row.seed_hash, row.position = wanted, position
            report.unchanged.append(key)
        elif current == row.seed_hash:
            row.file, row.body, row.position, row.seed_hash = data["file"], data["body"], position, wanted
            report.updated.append(key)
        else:
            report.kept_admin_edit.append(key)
    session.flush()

"""An admin's changes to intents, examples and responses: checked, saved with optimistic
locking, and logged in the audit log in the same transaction.

Each function takes a synchronous Session (the gateway calls them through
`AsyncSession.run_sync`) and raises Invalid (rules broken), Conflict (someone else saved
first) or NotFound; on any of them the caller's transaction is rolled back: nothing saved.

Audit entries (content/history.py reverts them):
- intent created: after = its fields + "examples" + "new_topic" or "new_response" made with it
- intent updated (description, retired): before/after = its fields
- example created/updated/deleted (also moved, filed from a conversation):
  before/after = {"intent": name, "texts": [...]}
- response updated: before/after = {"name", "variations"}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from content.export import template_slots
from content.models import CONVERSATION, KINDS, REFERRAL, REFERRAL_ACTION, RETRIEVAL, Example, Intent, Response
from content.seed import intent_fields, response_from_row
from content.validation import (
    MIN_EXAMPLES,
    clean_example,
    description_problems,
    duplicate_problems,
    example_key,
    example_problems,
    intent_name_problems,
    response_problems,
)
from core.editing import Actor, Conflict, Invalid, NotFound, Problem, check, expect_version, log
from directory.models import Organisation, Topic, TopicTarget
from directory.seed import topic_from_row

REFERRAL_RULE = "a described situation gets a referral from the directory"


# ---------------------------------------------------------------- reading


def get_intent(session: Session, name: str) -> Intent:
    row = session.scalar(select(Intent).where(Intent.name == name))
    if row is None:
        raise NotFound(f"Det finns ingen avsikt som heter {name}.")
    return row


def get_response(session: Session, name: str) -> Response:
    row = session.scalar(select(Response).where(Response.name == name))
    if row is None:
        raise NotFound(f"Det finns inget svar som heter {name}.")
    return row


def example_holders(session: Session) -> dict[str, str]:
    """example key → the name of the intent that has it."""
    return {k: n for k, n in session.execute(select(Example.key, Intent.name).join(Intent))}


def active_intents(session: Session) -> set[str]:
    """The intents Rasa will know (groups too: faq for faq/*), for button payloads."""
    names = session.scalars(select(Intent.name).where(Intent.retired.is_(False)))
    return {part for name in names for part in (name, name.split("/", 1)[0])}


def _count(session: Session, intent_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Example).where(Example.intent_id == intent_id)) or 0)


# ---------------------------------------------------------------- intents


def create_intent(
    session: Session, actor: Actor, now: dt.datetime, *, name: str, kind: str, description: str,
    examples: Sequence[str], answer: str = "", topic_name: str = "", first_target: str = "",
) -> Intent:
    """A new intent with its examples and what ties it to an answer:
    - referral: a directory topic with the same id, first target `first_target`, answered by
      action_referral (the admin adds more targets in the topic editor);
    - conversation: a response utter_<name> with the text `answer`;
    - retrieval (group/name, e.g. faq/parking): a response utter_<group>/<name>, answered by
      the group's rule."""
    name = name.strip()
    texts = [clean_example(t) for t in examples]
    existing = set(session.scalars(select(Intent.name)))
    problems = intent_name_problems(name, existing)
    if kind not in KINDS:
        problems.append(Problem("kind", "Välj vad avsikten ska leda till."))
    problems += description_problems(description)
    if len(texts) < MIN_EXAMPLES:
        problems.append(Problem("examples", (
            f"Skriv minst {MIN_EXAMPLES} exempel, ett per rad: olika sätt som ett företag kan "
            "uttrycka just det här på."
        )))
    for text in texts:
        problems += example_problems(text, "examples")
    problems += duplicate_problems(texts, example_holders(session), name, "examples")
    group = name.split("/", 1)[0]
    group_rows = list(session.scalars(select(Intent).where(Intent.name.like(f"{group}/%"))))
    if kind == RETRIEVAL and ("/" not in name or not group_rows):
        groups = sorted({n.split("/", 1)[0] for n in existing if "/" in n})
        problems.append(Problem("name", (
            "En fråga–svar-avsikt heter grupp/namn, där gruppen redan finns "
            f"({', '.join(f'{g}/…' for g in groups)})."
        )))
    if kind != RETRIEVAL and "/" in name:
        problems.append(Problem("name", "Snedstreck i namnet används bara för fråga–svar-avsikter."))
    if kind in (CONVERSATION, RETRIEVAL):
        variations = [{"text": answer.strip()}]
        problems += [Problem("answer", p.message) for p in
                     response_problems(variations, template_slots(), active_intents(session))]
    if kind == REFERRAL:
        if session.get(Topic, name) is not None:
            problems.append(Problem("name", f"Katalogen har redan ett ämne som heter {name}."))
        if session.get(Organisation, first_target) is None:
            problems.append(Problem("first_target", "Välj vilken organisation som ska nämnas först."))
        if not topic_name.strip():
            problems.append(Problem("topic_name", "Ge ämnet ett namn som visas för rådgivarna, t.ex. ”Energistöd”."))
    check(problems)

    position = int(session.scalar(select(func.max(Intent.position))) or 0) + 1
    row = Intent(name=name, kind=kind, description=description.strip(), nlu_file=group, position=position,
                 retired=False, action="", response=None, rule_title="")
    after: dict[str, Any] = {}
    if kind == REFERRAL:
        row.action, row.rule_title = REFERRAL_ACTION, _referral_rule_title(session)
        topic = Topic(id=name, name=topic_name.strip(), source=f"Skapat i administrationen av {actor.label}",
                      reviewed=now.date(), targets=[TopicTarget(rank=0, organisation_id=first_target)])
        session.add(topic)
        session.flush()
        after["new_topic"] = topic_from_row(topic)
    else:
        response_name = f"utter_{name}"
        row.response = response_name
        if kind == RETRIEVAL:
            row.action, row.rule_title = group_rows[0].action, group_rows[0].rule_title
        else:
            row.action, row.rule_title = response_name, f"{name} is answered with {response_name}"
        position = int(session.scalar(select(func.max(Response.position))) or 0) + 1
        response = Response(name=response_name, variations=[{"text": answer.strip()}], position=position)
        session.add(response)
        after["new_response"] = response_from_row(response)
    row.examples = [Example(text=t, key=example_key(t), source="admin") for t in texts]
    session.add(row)
    session.flush()
    log(session, actor, now, "intent", name, "created", None,
        {**intent_fields(row), "examples": texts, **after})
    return row


def _referral_rule_title(session: Session) -> str:
    title = session.scalar(select(Intent.rule_title).where(Intent.kind == REFERRAL).order_by(Intent.position).limit(1))
    return title or REFERRAL_RULE


def update_intent(session: Session, actor: Actor, now: dt.datetime, name: str, version: int | None, *,
                  description: str | None = None, retired: bool | None = None) -> Intent:
    row = get_intent(session, name)
    expect_version(row.version, version)
    before = intent_fields(row)
    problems = description_problems(description or "")
    if retired and not row.retired:
        problems += _retire_problems(session, row)
    if retired is False and row.retired:
        problems += _unretire_problems(session, row)
    check(problems)
    if description is not None:
        row.description = description.strip()
    if retired is not None:
        row.retired = retired
    session.flush()
    after = intent_fields(row)
    if after != before:
        log(session, actor, now, "intent", name, "updated", before, after)
    return row


def _retire_problems(session: Session, row: Intent) -> list[Problem]:
    problems = []
    for response in session.scalars(select(Response)):
        for variation in response.variations:
            for button in variation.get("buttons") or []:
                target = str(button.get("payload") or "")[1:].split("{", 1)[0]
                if str(button.get("payload") or "").startswith("/") and target == row.name:
                    problems.append(Problem("", (
                        f"Svaret {response.name} har knappen ”{button.get('title')}” som skickar "
                        f"{button.get('payload')}. Ändra knappen först."
                    )))
    return problems


def _unretire_problems(session: Session, row: Intent) -> list[Problem]:
    if len(row.examples) < MIN_EXAMPLES:
        return [Problem("", f"Avsikten har {len(row.examples)} exempel; den behöver minst {MIN_EXAMPLES}.")]
    return []


# ---------------------------------------------------------------- examples


def add_examples(session: Session, actor: Actor, now: dt.datetime, intent: str, texts: Sequence[str],
                 source: str = "admin", field: str = "examples") -> list[Example]:
    row = get_intent(session, intent)
    cleaned = [clean_example(t) for t in texts]
    problems: list[Problem] = []
    if not cleaned:
        problems.append(Problem(field, "Skriv minst ett exempel."))
    for raw in texts:
        problems += example_problems(raw, field)
    problems += duplicate_problems(cleaned, example_holders(session), intent, field)
    if row.retired:
        problems.append(Problem(field, f"Avsikten {intent} är avvecklad. Återställ den först."))
    check(problems)
    added = [Example(text=t, key=example_key(t), source=source) for t in cleaned]
    row.examples.extend(added)
    session.flush()
    log(session, actor, now, "example", intent, "created", None, {"intent": intent, "texts": cleaned})
    return added


def edit_example(session: Session, actor: Actor, now: dt.datetime, example_id: int, version: int | None,
                 text: str) -> Example:
    example = _example(session, example_id)
    expect_version(example.version, version)
    cleaned = clean_example(text)
    problems = example_problems(text, "text")
    holders = example_holders(session)
    holders.pop(example.key, None)
    problems += duplicate_problems([cleaned], holders, example.intent.name, "text")
    check(problems)
    before = {"intent": example.intent.name, "texts": [example.text]}
    example.text, example.key = cleaned, example_key(cleaned)
    session.flush()
    if before["texts"] != [cleaned]:
        log(session, actor, now, "example", example.intent.name, "updated", before,
            {"intent": example.intent.name, "texts": [cleaned]})
    return example


def move_examples(session: Session, actor: Actor, now: dt.datetime, versions: Mapping[int, int | None],
                  target: str) -> int:
    """Move examples (id → the version the admin saw) to another intent."""
    destination = get_intent(session, target)
    if destination.retired:
        raise Invalid([Problem("target", f"Avsikten {target} är avvecklad. Välj en annan.")])
    moved = _checked(session, versions)
    by_source = _by_intent(moved)
    check(_remaining_problems(session, by_source))
    for source, examples in by_source.items():
        if source.id == destination.id:
            continue
        for example in examples:
            example.intent = destination
            example.intent_id = destination.id
        session.flush()
        texts = [e.text for e in examples]
        log(session, actor, now, "example", target, "updated", {"intent": source.name, "texts": texts},
            {"intent": target, "texts": texts})
    return sum(len(e) for s, e in by_source.items() if s.id != destination.id)


def delete_examples(session: Session, actor: Actor, now: dt.datetime, versions: Mapping[int, int | None]) -> int:
    doomed = _checked(session, versions)
    by_source = _by_intent(doomed)
    check(_remaining_problems(session, by_source))
    for source, examples in by_source.items():
        texts = [e.text for e in examples]
        for example in examples:
            session.delete(example)
        session.flush()
        log(session, actor, now, "example", source.name, "deleted", {"intent": source.name, "texts": texts}, None)
    return len(doomed)


def _example(session: Session, example_id: int) -> Example:
    example = session.get(Example, example_id, options=[selectinload(Example.intent)])
    if example is None:
        raise NotFound("Exemplet finns inte längre; någon annan kan ha tagit bort det.")
    return example


def _checked(session: Session, versions: Mapping[int, int | None]) -> list[Example]:
    if not versions:
        raise Invalid([Problem("", "Markera minst ett exempel.")])
    rows = list(session.scalars(select(Example).where(Example.id.in_(list(versions)))
                                .options(selectinload(Example.intent))))
    if len(rows) != len(versions) or any(row.version != versions[row.id] for row in rows):
        raise Conflict()
    return rows


def _by_intent(examples: Sequence[Example]) -> dict[Intent, list[Example]]:
    grouped: dict[Intent, list[Example]] = {}
    for example in examples:
        grouped.setdefault(example.intent, []).append(example)
    return grouped


def _remaining_problems(session: Session, by_source: Mapping[Intent, Sequence[Example]]) -> list[Problem]:
    problems = []
    for source, examples in by_source.items():
        left = _count(session, source.id) - len(examples)
        if not source.retired and left < MIN_EXAMPLES:
            problems.append(Problem("", (
                f"Avsikten {source.name} skulle bara ha {left} exempel kvar; den behöver minst "
                f"{MIN_EXAMPLES}. Lägg till andra exempel först, eller avveckla avsikten."
            )))
    return problems


# ---------------------------------------------------------------- responses


def update_response(session: Session, actor: Actor, now: dt.datetime, name: str, version: int | None,
                    variations: Sequence[Mapping[str, Any]]) -> Response:
    row = get_response(session, name)
    expect_version(row.version, version)
    check(response_problems(variations, template_slots(), active_intents(session)))
    before = response_from_row(row)
    kept_extra = [{k: v for k, v in old.items() if k not in ("text", "buttons")} for old in row.variations]
    new: list[dict[str, Any]] = []
    for index, variation in enumerate(variations):
        item: dict[str, Any] = {"text": str(variation["text"]).strip()}
        buttons = [{"title": str(b["title"]).strip(), "payload": str(b["payload"]).strip()}
                   for b in variation.get("buttons") or []]
        if buttons:
            item["buttons"] = buttons
        if index < len(kept_extra):
            item.update(kept_extra[index])
        new.append(item)
    row.variations = new
    session.flush()
    after = response_from_row(row)
    if after != before:
        log(session, actor, now, "response", name, "updated", before, after)
    return row

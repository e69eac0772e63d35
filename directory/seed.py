"""Seed the directory from `data/directory/*.yml`, idempotently.

A row is written when it is new, or when it still holds exactly what an earlier seed wrote
(its content hashes to its `seed_hash`). A row an admin has edited since is left alone, so
re-seeding after a deploy never undoes an admin's work. Rows are never deleted here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy.orm import Session

from core.db import Base
from directory.models import Contact, Organisation, Scheme, Topic, TopicTarget

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[1] / "data" / "directory"

Row = TypeVar("Row", bound=Base)


class SeedError(ValueError):
    """The seed files are inconsistent (unknown ids, missing fields)."""


@dataclass
class SeedReport:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_admin_edit: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.inserted)} inserted, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept_admin_edit)} kept (edited by an admin)"
        )


def content_hash(canonical: Mapping[str, Any]) -> str:
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _date(value: object) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.date.fromisoformat(str(value)).isoformat()


def _to_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _review(source_url: object, to_check: object) -> dict[str, str]:
    """The review fields, only when set.

    Rows seeded before these fields existed hash as they did then, so the seeder still
    recognises them as its own (and updates them) instead of mistaking them for an
    admin's edit.
    """
    fields = {"source_url": str(source_url or "").strip(), "to_check": str(to_check or "").strip()}
    return {key: value for key, value in fields.items() if value}


def _phone(value: object) -> dict[str, bool]:
    return {} if value is None else {"publishes_phone": bool(value)}


# Canonical forms: the same dict whether built from a YAML entry or from a stored row.

def organisation_from_yaml(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "name": entry["name"],
        "aliases": list(entry.get("aliases") or []),
        "kind": entry.get("kind") or "organisation",
        "region": entry.get("region") or "national",
        "reached_through": entry.get("reached_through"),
        "summary": (entry.get("summary") or "").strip(),
        "contacts": [
            {"kind": c["kind"], "value": str(c["value"]), "label": c.get("label") or ""}
            for c in entry.get("contacts") or []
        ],
        "source": entry.get("source") or "",
        "reviewed": _date(entry.get("reviewed")),
        **_review(entry.get("source_url"), entry.get("to_check")),
        **_phone(entry.get("publishes_phone")),
    }


def organisation_from_row(row: Organisation) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "aliases": list(row.aliases), "kind": row.kind,
        "region": row.region, "reached_through": row.reached_through, "summary": row.summary,
        "contacts": [{"kind": c.kind, "value": c.value, "label": c.label} for c in row.contacts],
        "source": row.source, "reviewed": _date(row.reviewed),
        **_review(row.source_url, row.to_check), **_phone(row.publishes_phone),
    }


def _apply_review(row: Organisation | Scheme | Topic, data: Mapping[str, Any]) -> None:
    row.source, row.reviewed = data["source"], _to_date(data["reviewed"])
    row.source_url, row.to_check = data.get("source_url", ""), data.get("to_check", "")


def apply_organisation(row: Organisation, data: Mapping[str, Any]) -> None:
    row.name, row.aliases, row.kind = data["name"], data["aliases"], data["kind"]
    row.region, row.reached_through, row.summary = data["region"], data["reached_through"], data["summary"]
    row.publishes_phone = data.get("publishes_phone")
    _apply_review(row, data)
    row.contacts = [
        Contact(position=i, kind=c["kind"], value=c["value"], label=c["label"])
        for i, c in enumerate(data["contacts"])
    ]


def scheme_from_yaml(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "name": entry["name"],
        "aliases": list(entry.get("aliases") or []),
        "organisation": entry["organisation"],
        "status": entry.get("status") or "active",
        "start_date": _date(entry.get("start_date")),
        "end_date": _date(entry.get("end_date")),
        "summary": (entry.get("summary") or "").strip(),
        "now_applies": (entry.get("now_applies") or "").strip(),
        "now_targets": list(entry.get("now_targets") or []),
        "source": entry.get("source") or "",
        "reviewed": _date(entry.get("reviewed")),
        **_review(entry.get("source_url"), entry.get("to_check")),
    }


def scheme_from_row(row: Scheme) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "aliases": list(row.aliases),
        "organisation": row.organisation_id, "status": row.status,
        "start_date": _date(row.start_date), "end_date": _date(row.end_date),
        "summary": row.summary, "now_applies": row.now_applies,
        "now_targets": list(row.now_targets), "source": row.source, "reviewed": _date(row.reviewed),
        **_review(row.source_url, row.to_check),
    }


def apply_scheme(row: Scheme, data: Mapping[str, Any]) -> None:
    row.name, row.aliases, row.organisation_id = data["name"], data["aliases"], data["organisation"]
    row.status, row.summary = data["status"], data["summary"]
    row.start_date, row.end_date = _to_date(data["start_date"]), _to_date(data["end_date"])
    row.now_applies, row.now_targets = data["now_applies"], data["now_targets"]
    _apply_review(row, data)


def topic_from_yaml(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "name": entry["name"],
        "targets": [
            {
                "target": t["target"],
                "audience": t.get("audience") or "any",
                "min_employees": t.get("min_employees"),
                "max_employees": t.get("max_employees"),
                "pitch": (t.get("pitch") or "").strip(),
            }
            for t in entry.get("targets") or []
        ],
        "source": entry.get("source") or "",
        "reviewed": _date(entry.get("reviewed")),
        **_review(entry.get("source_url"), entry.get("to_check")),
    }


def topic_from_row(row: Topic) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name,
        "targets": [
            {"target": t.organisation_id, "audience": t.audience, "min_employees": t.min_employees,
             "max_employees": t.max_employees, "pitch": t.pitch}
            for t in row.targets
        ],
        "source": row.source, "reviewed": _date(row.reviewed),
        **_review(row.source_url, row.to_check),
    }


def apply_topic(row: Topic, data: Mapping[str, Any]) -> None:
    row.name = data["name"]
    _apply_review(row, data)
    row.targets = [
        TopicTarget(rank=i, organisation_id=t["target"], audience=t["audience"],
                    min_employees=t["min_employees"], max_employees=t["max_employees"],
                    pitch=t["pitch"])
        for i, t in enumerate(data["targets"])
    ]


def load_seed(directory: Path = DEFAULT_DIRECTORY) -> dict[str, list[dict[str, Any]]]:
    def entries(name: str) -> list[dict[str, Any]]:
        with (directory / f"{name}.yml").open(encoding="utf-8") as handle:
            return list((yaml.safe_load(handle) or {}).get(name) or [])

    organisations = [organisation_from_yaml(e) for e in entries("organisations")]
    # Partners refer to an organisation by id: write the ones they point to first.
    organisations.sort(key=lambda o: o["reached_through"] is not None)
    seed = {
        "organisations": organisations,
        "schemes": [scheme_from_yaml(e) for e in entries("schemes")],
        "topics": [topic_from_yaml(e) for e in entries("topics")],
    }
    validate_seed(seed)
    return seed


def validate_seed(seed: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    org_ids = {o["id"] for o in seed["organisations"]}
    problems: list[str] = []
    for kind in ("organisations", "schemes", "topics"):
        ids = [e["id"] for e in seed[kind]]
        problems += [f"{kind}: duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for org in seed["organisations"]:
        if org["reached_through"] and org["reached_through"] not in org_ids:
            problems.append(f"organisation {org['id']}: unknown reached_through {org['reached_through']}")
    for scheme in seed["schemes"]:
        unknown = [t for t in [scheme["organisation"], *scheme["now_targets"]] if t not in org_ids]
        problems += [f"scheme {scheme['id']}: unknown organisation {t}" for t in unknown]
        if scheme["status"] == "ended" and not (scheme["end_date"] and scheme["now_applies"]):
            problems.append(f"scheme {scheme['id']}: ended schemes need end_date and now_applies")
    for topic in seed["topics"]:
        if not topic["targets"]:
            problems.append(f"topic {topic['id']}: no targets")
        problems += [
            f"topic {topic['id']}: unknown target {t['target']}"
            for t in topic["targets"] if t["target"] not in org_ids
        ]
    if problems:
        raise SeedError("; ".join(problems))


def _upsert(
    session: Session,
    model: type[Row],
    entries: Sequence[Mapping[str, Any]],
    to_canonical: Callable[[Row], dict[str, Any]],
    apply: Callable[[Row, Mapping[str, Any]], None],
    report: SeedReport,
) -> None:
    for data in entries:
        key = f"{model.__tablename__}/{data['id']}"
        wanted = content_hash(data)
        row = session.get(model, data["id"])
        if row is None:
            row = model(id=data["id"])
            apply(row, data)
            row.seed_hash = wanted  # type: ignore[attr-defined]
            session.add(row)
            report.inserted.append(key)
            continue
        current = content_hash(to_canonical(row))
        if current == wanted:
            row.seed_hash = wanted  # type: ignore[attr-defined]
            report.unchanged.append(key)
        elif current == row.seed_hash:  # type: ignore[attr-defined]
            apply(row, data)
            row.seed_hash = wanted  # type: ignore[attr-defined]
            report.updated.append(key)
        else:
            report.kept_admin_edit.append(key)
        session.flush()


def seed_directory(session: Session, directory: Path = DEFAULT_DIRECTORY) -> SeedReport:
    seed = load_seed(directory)
    report = SeedReport()
    _upsert(session, Organisation, seed["organisations"], organisation_from_row,
            apply_organisation, report)
    _upsert(session, Scheme, seed["schemes"], scheme_from_row, apply_scheme, report)
    _upsert(session, Topic, seed["topics"], topic_from_row, apply_topic, report)
    return report

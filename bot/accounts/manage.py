"""Accounts (advisors and admins): created, changed, deactivated and listed, from the
command line (`python -m bot create-advisor | deactivate-account | list-accounts`) and
from the admin pages. Every change writes the audit log in its own transaction.

Deactivating an account ends its sessions at once (its console and admin sockets close:
bot/console/ws.py checks the session at each heartbeat, and the admin page also
announces it). There is always at least one active admin left.

Accounts have no version column: an edit form carries `state_token` of the account as it
was shown, and a save is refused when the account's state has changed since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.auth import MIN_PASSWORD_LENGTH, hash_password, normalize_email
from bot.conversation.context import ADMIN, ROLES
from bot.conversation.models import Advisor, AdvisorSession, utcnow
from core.editing import Actor, Conflict, NotFound, Problem, check, log

CLI = Actor(None, "kommandoraden")
ROLE_LABELS = {"advisor": "Rådgivare", "admin": "Administratör"}


class AccountError(ValueError):
    """The account cannot be changed as asked (message in Swedish, for the admin)."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_seen_at: dt.datetime | None


def account_state(row: Advisor) -> dict[str, Any]:
    """What the audit log shows of an account (never the password)."""
    return {"email": row.email, "name": row.name, "role": row.role, "active": row.active}


def state_token(row: Advisor) -> str:
    return hashlib.sha256(json.dumps(account_state(row), sort_keys=True).encode()).hexdigest()[:16]


def _field_problems(email: str, name: str, role: str, password: str | None) -> list[Problem]:
    problems = []
    if "@" not in email or len(email) > 254 or " " in email:
        problems.append(Problem("email", "Ange en giltig e-postadress."))
    if not name or len(name) > 200:
        problems.append(Problem("name", "Ange ett namn (högst 200 tecken)."))
    if role not in ROLES:
        problems.append(Problem("role", "Välj rådgivare eller administratör."))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken."))
    return problems


def _other_active_admins(session: Session, account_id: int) -> int:
    query = select(func.count()).select_from(Advisor).where(
        Advisor.role == ADMIN, Advisor.active.is_(True), Advisor.id != account_id
    )
    return int(session.scalar(query) or 0)


def last_admin_problems(session: Session, row: Advisor, role: str, active: bool) -> list[Problem]:
    loses_admin = row.role == ADMIN and row.active and (role != ADMIN or not active)
    if loses_admin and _other_active_admins(session, row.id) == 0:
        return [Problem("", (
            f"{row.name} är den enda aktiva administratören. Gör någon annan till administratör först, "
            "så att någon alltid kan logga in här."
        ))]
    return []


def end_sessions(session: Session, account_id: int) -> None:
    session.execute(delete(AdvisorSession).where(AdvisorSession.advisor_id == account_id))


# ---------------------------------------------------------------- used by the admin pages


def create_account(session: Session, actor: Actor, now: dt.datetime, *, email: str, name: str, password: str,
                   role: str) -> Advisor:
    email, name = normalize_email(email), " ".join(name.split())
    problems = _field_problems(email, name, role, password)
    if session.scalar(select(Advisor.id).where(Advisor.email == email)) is not None:
        problems.append(Problem("email", f"Det finns redan ett konto med e-postadressen {email}."))
    check(problems)
    row = Advisor(email=email, name=name, password_hash=hash_password(password), role=role, active=True,
                  created_at=now)
    session.add(row)
    session.flush()
    log(session, actor, now, "account", str(row.id), "created", None, account_state(row))
    return row


def update_account(session: Session, actor: Actor, now: dt.datetime, account_id: int, token: str | None, *,
                   name: str, role: str, active: bool) -> Advisor:
    """Change name, role or whether the account is active. Deactivating ends its sessions."""
    row = session.get(Advisor, account_id)
    if row is None:
        raise NotFound("Kontot finns inte.")
    if token != state_token(row):
        raise Conflict()
    name = " ".join(name.split())
    problems = _field_problems(row.email, name, role, None)
    if actor.id == account_id and not active:
        problems.append(Problem("active", "Du kan inte inaktivera ditt eget konto."))
    check(problems + last_admin_problems(session, row, role, active))
    before = account_state(row)
    row.name, row.role, row.active = name, role, active
    if not active:
        end_sessions(session, row.id)
    session.flush()
    if account_state(row) != before:
        log(session, actor, now, "account", str(row.id), "updated", before, account_state(row))
    return row


def list_rows(session: Session) -> list[AccountRow]:
    rows = session.scalars(select(Advisor).order_by(Advisor.active.desc(), Advisor.name))
    return [AccountRow(r.id, r.email, r.name, r.role, r.active, r.created_at, r.last_seen_at) for r in rows]


# ---------------------------------------------------------------- the command line


def create_advisor(
    factory: sessionmaker[Session], email: str, name: str, password: str, *, update: bool = False,
    role: str | None = None, actor: Actor = CLI,
) -> Advisor:
    """Create an account (role advisor unless given), or with update=True reset an existing
    one's name and password (and role when given) and reactivate it."""
    email = normalize_email(email)
    name = " ".join(name.split())
    problems = _field_problems(email, name, role or "advisor", password)
    if problems:
        raise AccountError(" ".join(p.message for p in problems))
    now = utcnow()
    with factory.begin() as session:
        advisor = session.scalar(select(Advisor).where(Advisor.email == email))
        if advisor is not None and not update:
            raise AccountError(f"Det finns redan ett konto med e-postadressen {email}.")
        if advisor is None:
            advisor = Advisor(email=email, name=name, password_hash=hash_password(password), role=role or "advisor",
                              active=True, created_at=now)
            session.add(advisor)
            session.flush()
            log(session, actor, now, "account", str(advisor.id), "created", None, account_state(advisor))
        else:
            before = account_state(advisor)
            problems = last_admin_problems(session, advisor, role or advisor.role, True)
            if problems:
                raise AccountError(problems[0].message)
            advisor.name, advisor.password_hash, advisor.active = name, hash_password(password), True
            advisor.role = role or advisor.role
            session.flush()
            # The password itself is never logged; the action says it was set.
            log(session, actor, now, "account", str(advisor.id), "password_changed", before, account_state(advisor))
        session.expunge(advisor)
    return advisor


def deactivate_account(factory: sessionmaker[Session], email: str, actor: Actor = CLI) -> Advisor:
    """Deactivate by e-mail: no more logins, and every session ends at once."""
    email = normalize_email(email)
    now = utcnow()
    with factory.begin() as session:
        advisor = session.scalar(select(Advisor).where(Advisor.email == email))
        if advisor is None:
            raise AccountError(f"Det finns inget konto med e-postadressen {email}.")
        problems = last_admin_problems(session, advisor, advisor.role, False)
        if problems:
            raise AccountError(problems[0].message)
        before = account_state(advisor)
        advisor.active = False
        end_sessions(session, advisor.id)
        session.flush()
        if before != account_state(advisor):
            log(session, actor, now, "account", str(advisor.id), "updated", before, account_state(advisor))
        session.expunge(advisor)
    return advisor


def list_accounts(factory: sessionmaker[Session]) -> list[AccountRow]:
    with factory() as session:
        return list_rows(session)

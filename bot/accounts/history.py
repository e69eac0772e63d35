"""Reverting an account change from the audit log (content/history.py has the others).

A change goes back only when the account is still as the change left it. A created
account cannot be removed (conversations and the log refer to it), so reverting its
creation deactivates it; a password change is never undone (only its other fields)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.accounts.manage import account_state, end_sessions, last_admin_problems
from bot.conversation.models import Advisor
from content.history import CHANGED_SINCE, State, refuse
from core.audit import AuditEntry
from core.editing import check


def revert_account(session: Session, entry: AuditEntry, now: dt.datetime) -> tuple[State, State]:
    row = session.get(Advisor, int(entry.entity_id))
    if row is None:
        refuse("Kontot finns inte längre.")
    current = account_state(row)
    if current != entry.after:
        refuse(CHANGED_SINCE)
    target = dict(entry.before) if entry.before is not None else {**current, "active": False}
    check(last_admin_problems(session, row, str(target["role"]), bool(target["active"])))
    row.name, row.role, row.active = str(target["name"]), str(target["role"]), bool(target["active"])
    if not row.active:
        end_sessions(session, row.id)
    session.flush()
    return current, account_state(row)

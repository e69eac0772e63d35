"""What the admin's views share: running a change in one transaction, rendering a page with
the shell's context, reading form values, and the notices shown after a save.

Changes are plain synchronous functions (content/, directory/, bot/accounts/manage.py);
`transact` runs one in a single transaction through `AsyncSession.run_sync`, so the audit
entry and the change commit together, and turns a stale UPDATE (the row's version moved
between reading and writing) into the same Conflict as a stale form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.orm.exc import StaleDataError

from bot.admin.access import csrf_token
from bot.conversation.context import AdvisorRef
from bot.web.keys import clock_key, db_key
from core.editing import Actor, Conflict

T = TypeVar("T")

# Shown after a redirect (?klart=<code>): the page says what just happened.
NOTICES = {
    "sparat": "Ändringen är sparad.",
    "skapad": "Skapad.",
    "tillagda": "Exemplen är tillagda.",
    "flyttade": "Exemplen är flyttade.",
    "borttagna": "Exemplen är borttagna.",
    "avvecklad": "Avsikten är avvecklad: den är kvar här men är inte med i nästa träning.",
    "aterstalld": "Avsikten är återställd och kommer med i nästa träning.",
    "angrad": "Ändringen är ångrad.",
    "arkiverad": "Meddelandet är granskat och borttaget från listan.",
    "inlagd": "Meddelandet är inlagt som exempel.",
    "traning_startad": "Träningen har startat. Följ den här; den aktiva modellen svarar som vanligt under tiden.",
    "traning_avbryts": "Träningen avbryts. Den aktiva modellen är oförändrad.",
    "fraga_tillagd": "Frågan är tillagd i utvärderingen. Nästa träning utvärderas även på den.",
    "aktiveras": "Modellen startas bredvid den aktiva och tar över när den är laddad (inga samtal avbryts).",
    "slangd": "Modellen är slängd.",
}


def actor_of(account: AdvisorRef) -> Actor:
    return Actor(account.id, f"{account.name} <{account.email}>")


def now_of(request: web.Request) -> dt.datetime:
    return request.app[clock_key]()


async def transact(request: web.Request, change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `change(session, *args, **kwargs)` in one transaction (rolled back if it raises)."""
    try:
        async with request.app[db_key].begin() as session:
            return await session.run_sync(lambda sync: change(sync, *args, **kwargs))
    except StaleDataError:
        raise Conflict() from None


async def read(request: web.Request, loader: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `loader(session, ...)` in a read-only session."""
    async with request.app[db_key]() as session:
        return await session.run_sync(lambda sync: loader(sync, *args, **kwargs))


def page(request: web.Request, template: str, account: AdvisorRef, active: str, *, status: int = 200,
         **context: Any) -> web.Response:
    notice = NOTICES.get(request.query.get("klart", ""))
    base = {"account": account, "csrf_token": csrf_token(request), "active": active, "notice": notice,
            "errors": {}, "general_errors": [], "conflict": None}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def done(path: str, code: str, **query: str) -> web.HTTPSeeOther:
    """Post/redirect/get: back to `path` with a notice."""
    return web.HTTPSeeOther(f"{path}?{urlencode({**query, 'klart': code})}")


def not_found(request: web.Request, account: AdvisorRef, message: str) -> web.Response:
    return page(request, "message.html", account, "", status=404, title="Finns inte", message=message)


def version_of(form: Mapping[str, str], key: str = "version") -> int | None:
    try:
        return int(form.get(key, ""))
    except ValueError:
        return None


def int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    try:
        return int(value) if value else None
    except ValueError:
        return -1  # reported by the rules as "not a whole number"


def lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def rows(form: MultiDictProxy[str], prefix: str, fields: Sequence[str]) -> list[dict[str, str]]:
    """Repeated rows of a form (`<prefix>_<field>_<n>`), in order of `n`, blank rows and
    rows marked `<prefix>_remove_<n>` left out."""
    indices = sorted({int(key.rsplit("_", 1)[1]) for key in form
                      if key.startswith(f"{prefix}_") and key.rsplit("_", 1)[1].isdigit()})
    out = []
    for n in indices:
        if form.get(f"{prefix}_remove_{n}"):
            continue
        row = {f: str(form.get(f"{prefix}_{f}_{n}", "")).strip() for f in fields}
        if any(row.values()):
            out.append(row)
    return out


def errors_by_field(problems: Sequence[Any]) -> tuple[dict[str, list[str]], list[str]]:
    by_field: dict[str, list[str]] = {}
    general = []
    for problem in problems:
        if problem.field:
            by_field.setdefault(problem.field, []).append(problem.message)
        else:
            general.append(problem.message)
    return by_field, general

"""Advisor accounts, created from the command line (`python -m bot create-advisor`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.auth import MIN_PASSWORD_LENGTH, hash_password, normalize_email
from bot.conversation.models import Advisor


class AccountError(ValueError):
    """The account cannot be created as asked (message in Swedish, for the admin)."""


def create_advisor(
    factory: sessionmaker[Session], email: str, name: str, password: str, *, update: bool = False
) -> Advisor:
    email = normalize_email(email)
    name = " ".join(name.split())
    if "@" not in email or len(email) > 254:
        raise AccountError("Ange en giltig e-postadress.")
    if not name or len(name) > 200:
        raise AccountError("Ange ett namn (högst 200 tecken).")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
    with factory.begin() as session:
        advisor = session.scalar(select(Advisor).where(Advisor.email == email))
        if advisor is not None and not update:
            raise AccountError(f"Det finns redan en rådgivare med e-postadressen {email}.")
        if advisor is None:
            advisor = Advisor(email=email, name=name, password_hash=hash_password(password))
            session.add(advisor)
        else:
            advisor.name = name
            advisor.password_hash = hash_password(password)
            advisor.active = True
        session.flush()
        session.expunge(advisor)
    return advisor

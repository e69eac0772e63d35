"""Command line of the gateway.

python -m bot serve                                   run the gateway
python -m bot create-advisor --email E --name N       create an account (--role advisor|admin;
    --update resets an existing one's name, password and role and reactivates it; the
    password is asked twice at a prompt, or read from stdin with --password-stdin)
python -m bot deactivate-account --email E            no more logins; its sessions end at once
python -m bot list-accounts                           every account, its role and whether active
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from bot import logmask
from core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Gateway of Företagssupporten")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the gateway (GATEWAY_HOST:GATEWAY_PORT)")
    create = commands.add_parser("create-advisor", help="create (or with --update, reset) an advisor")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--update", action="store_true", help="update an existing account")
    create.add_argument("--role", choices=("advisor", "admin"), help="advisor (default for a new account) or admin")
    deactivate = commands.add_parser("deactivate-account", help="deactivate an account and end its sessions")
    deactivate.add_argument("--email", required=True)
    commands.add_parser("list-accounts", help="list the accounts")
    args = parser.parse_args(argv)

    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logmask.install()  # no personnummer in any log line
    if args.command == "serve":
        from aiohttp import web

        from bot.app import create_app

        web.run_app(
            create_app(settings),
            host=settings.gateway_host,
            port=settings.gateway_port,
            access_log=None,
            loop=new_event_loop(settings.gateway_event_loop),
        )
        return 0
    if args.command == "create-advisor":
        return _create_advisor(settings.database_url, args)
    return _accounts(settings.database_url, args)


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """The gateway's event loop (GATEWAY_EVENT_LOOP)."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _accounts(database_url: str, args: argparse.Namespace) -> int:
    from bot.accounts.manage import ROLE_LABELS, AccountError, deactivate_account, list_accounts
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        factory = make_sessionmaker(engine)
        if args.command == "deactivate-account":
            try:
                advisor = deactivate_account(factory, args.email)
            except AccountError as exc:
                print(exc, file=sys.stderr)
                return 1
            print(f"Kontot {advisor.name} <{advisor.email}> är inaktiverat; dess inloggningar är avslutade.")
            return 0
        for row in list_accounts(factory):
            state = "aktivt" if row.active else "inaktiverat"
            print(f"{row.email}\t{row.name}\t{ROLE_LABELS.get(row.role, row.role)}\t{state}")
        return 0
    finally:
        engine.dispose()


def _create_advisor(database_url: str, args: argparse.Namespace) -> int:
    from bot.accounts.manage import AccountError, create_advisor
    from core.db import make_engine, make_sessionmaker

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Lösenord: ")
        if getpass.getpass("Upprepa lösenordet: ") != password:
            print("Lösenorden stämmer inte överens.", file=sys.stderr)
            return 1
    engine = make_engine(database_url)
    try:
        advisor = create_advisor(make_sessionmaker(engine), args.email, args.name, password, update=args.update,
                                 role=args.role)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    verb = "uppdaterad" if args.update else "skapad"
    who = "Administratören" if advisor.role == "admin" else "Rådgivaren"
    print(f"{who} {advisor.name} <{advisor.email}> är {verb}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

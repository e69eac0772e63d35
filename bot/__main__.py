"""Command line of the gateway.

python -m bot serve                                   run the gateway
python -m bot create-advisor --email E --name N       create an advisor account
    (password asked twice at a prompt, or read from stdin with --password-stdin)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

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
    args = parser.parse_args(argv)

    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        from aiohttp import web

        from bot.app import create_app

        web.run_app(
            create_app(settings),
            host=settings.gateway_host,
            port=settings.gateway_port,
            access_log=None,
        )
        return 0
    return _create_advisor(settings.database_url, args)


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
        advisor = create_advisor(make_sessionmaker(engine), args.email, args.name, password, update=args.update)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    verb = "uppdaterad" if args.update else "skapad"
    print(f"Rådgivaren {advisor.name} <{advisor.email}> är {verb}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

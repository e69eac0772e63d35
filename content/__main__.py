"""Command line of the content (docs/admin.md).

python -m content seed                  seed the content tables from the files (idempotent)
python -m content export [--target D]   write the database's content as a Rasa project into
                                        D (default: this repository, for a developer to commit)
python -m content check                 list what would stop a training (Swedish)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.db import make_engine, make_sessionmaker, transaction
from core.settings import PROJECT_ROOT, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from the settings)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", help="seed intents, examples, responses and dialogue from the files")
    export = commands.add_parser("export", help="write the content out as a Rasa project")
    export.add_argument("--target", type=Path, default=PROJECT_ROOT, help="project directory (default: the repo)")
    commands.add_parser("check", help="what would stop a training")
    args = parser.parse_args(argv)

    engine = make_engine(args.url or load_settings().database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            if args.command == "seed":
                from content.seed import seed_content

                print(f"Content seeded: {seed_content(session).summary()}")
                return 0
            from content.export import check_project, load_project, write_project

            if args.command == "check":
                problems = check_project(session)
                for problem in problems:
                    print(problem)
                return 1 if problems else 0
            project = load_project(session)
            written = write_project(project, args.target.resolve())
            print(f"Wrote {len(written)} files into {args.target}.")
            for item in project.left_out:
                print(f"  left out: {item}")
            return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

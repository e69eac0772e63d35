"""Build the Teams app package an admin uploads: deploy/teams/manifest.json with the bot's
app id filled in, and its two icons, zipped flat (docs/channels/teams.md).

    .venv/bin/python -m scripts.teams_package                    # app id from TEAMS_APP_ID
    .venv/bin/python -m scripts.teams_package --app-id GUID --website https://… --output app.zip

The manifest in the repository holds the all-zero GUID as a placeholder: Teams identifies
the app and the bot by the Azure Bot's Microsoft App ID, which only exists once the bot
is registered.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT, load_settings

SOURCE = PROJECT_ROOT / "deploy" / "teams"
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
ICONS = ("color.png", "outline.png")


def manifest(app_id: str, website: str | None = None, privacy: str | None = None,
             terms: str | None = None, version: str | None = None) -> dict[str, Any]:
    """The shipped manifest with this bot's id (and the organisation's links, if given)."""
    checked = str(uuid.UUID(app_id))  # ValueError unless a GUID
    if checked == PLACEHOLDER:
        raise ValueError("the app id is still the placeholder")
    data: dict[str, Any] = json.loads((SOURCE / "manifest.json").read_text(encoding="utf-8"))
    data["id"] = checked
    for bot in data["bots"]:
        bot["botId"] = checked
    for key, value in (("websiteUrl", website), ("privacyUrl", privacy), ("termsOfUseUrl", terms)):
        if value:
            if not value.startswith("https://"):
                raise ValueError(f"{key} must be an https:// address")
            data["developer"][key] = value
    if version:
        data["version"] = version
    return data


def build(output: Path, data: dict[str, Any]) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        for icon in ICONS:
            package.write(SOURCE / icon, icon)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.teams_package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-id", help="the Azure Bot's Microsoft App ID (default: TEAMS_APP_ID)")
    parser.add_argument("--website", help="https:// address of the organisation's website")
    parser.add_argument("--privacy", help="https:// address of the privacy notice")
    parser.add_argument("--terms", help="https:// address of the terms of use")
    parser.add_argument("--version", help="the app's version (raise it for every new upload)")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "var" / "teams-app.zip")
    args = parser.parse_args(argv)
    app_id = args.app_id or load_settings().teams_app_id
    if not app_id:
        print("Ange --app-id eller sätt TEAMS_APP_ID.", file=sys.stderr)
        return 2
    try:
        data = manifest(app_id, args.website, args.privacy, args.terms, args.version)
    except ValueError as exc:
        print(f"Ogiltigt värde: {exc}", file=sys.stderr)
        return 2
    path = build(args.output, data)
    print(f"Teams-paketet är skrivet till {path}. Ladda upp det i Teams administrationscenter.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

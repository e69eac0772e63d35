"""The Teams app package: the shipped manifest, its icons, and the zip an admin uploads."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from scripts.teams_package import PLACEHOLDER, SOURCE, build, main, manifest

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG without filters (what we ship)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour_type) == (8, 6)
    idat, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        if data[offset + 4:offset + 8] == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    pixels = []
    for row in range(height):
        line = raw[row * stride:(row + 1) * stride]
        assert line[0] == 0
        pixels += [tuple(line[1 + 4 * x:5 + 4 * x]) for x in range(width)]
    return width, height, pixels


def test_the_shipped_manifest_is_a_personal_bot_with_placeholders() -> None:
    data = json.loads((SOURCE / "manifest.json").read_text(encoding="utf-8"))
    assert data["manifestVersion"] == "1.23"
    assert data["$schema"].endswith("/teams/v1.23/MicrosoftTeams.schema.json")
    assert data["id"] == PLACEHOLDER
    [bot] = data["bots"]
    assert bot["botId"] == PLACEHOLDER
    assert bot["scopes"] == ["personal"]
    # The schema's limits.
    assert len(data["name"]["short"]) <= 30 and len(data["name"]["full"]) <= 100
    assert len(data["description"]["short"]) <= 80 and len(data["description"]["full"]) <= 4000
    assert len(data["developer"]["name"]) <= 32
    assert all(data["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert data["icons"] == {"outline": "outline.png", "color": "color.png"}


def test_the_icons_have_the_sizes_teams_requires() -> None:
    width, height, pixels = png_pixels((SOURCE / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    assert all(a == 255 for *_, a in pixels)  # full colour, no transparency
    width, height, pixels = png_pixels((SOURCE / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    # White on transparent only.
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)


def test_the_package_carries_the_bots_app_id(tmp_path: Path) -> None:
    path = build(tmp_path / "app.zip", manifest(APP_ID, website="https://www.regionvastmanland.se/"))
    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        data = json.loads(package.read("manifest.json"))
        assert package.read("color.png") == (SOURCE / "color.png").read_bytes()
    assert data["id"] == APP_ID
    assert data["bots"][0]["botId"] == APP_ID
    assert data["developer"]["websiteUrl"] == "https://www.regionvastmanland.se/"


@pytest.mark.parametrize("app_id", ["not-a-guid", PLACEHOLDER])
def test_an_app_id_that_is_not_a_real_guid_is_refused(app_id: str) -> None:
    with pytest.raises(ValueError):
        manifest(app_id)


def test_the_command_writes_the_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "teams.zip"
    assert main(["--app-id", APP_ID, "--version", "1.0.1", "--output", str(output)]) == 0
    with zipfile.ZipFile(output) as package:
        assert json.loads(package.read("manifest.json"))["version"] == "1.0.1"
    assert main(["--app-id", APP_ID, "--website", "http://insecure.example", "--output", str(output)]) == 2
    assert "https://" in capsys.readouterr().err

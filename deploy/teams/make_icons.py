"""Draws the Teams app's two icons from the site's logo (bot/static/images/favicon.svg):
`color.png` (192x192, full colour) and `outline.png` (32x32, white on transparent), as
Teams requires. Standard library only (zlib + struct), so it runs anywhere:

    python deploy/teams/make_icons.py
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLUE = (0x0D, 0x4F, 0x8B)
ORANGE = (0xE0, 0x66, 0x2D)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis, for smooth edges

Point = tuple[float, float]
Colour = tuple[int, int, int]
Layer = tuple[Colour, Callable[[Point], bool]]


def bezier(p0: Point, p1: Point, p2: Point, p3: Point, steps: int = 24) -> list[Point]:
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def leaf(scale: float = 1.0, top: float = 8.0) -> list[Point]:
    """The logo's flame, in the 44x44 viewBox (the same curves as the SVG path)."""
    def s(x: float, y: float) -> Point:
        return (22 + (x - 22) * scale, top + (y - 8) * scale)

    path = bezier(s(22, 8), s(25, 11), s(26, 13.5), s(24.2, 16.5))
    path += bezier(s(24.2, 16.5), s(23.5, 17.6), s(22.6, 18.3), s(22, 18.8))
    path += bezier(s(22, 18.8), s(21.4, 18.3), s(20.5, 17.6), s(19.8, 16.5))
    path += bezier(s(19.8, 16.5), s(18, 13.5), s(19, 11), s(22, 8))
    return path


def inside(point: Point, polygon: list[Point]) -> bool:
    x, y = point
    hit = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def near_polyline(point: Point, points: list[Point], half_width: float) -> bool:
    px, py = point
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
        if math.hypot(px - (x1 + t * dx), py - (y1 + t * dy)) <= half_width:
            return True
    return False


def render(size: int, layers: list[Layer], background: Colour | None) -> bytes:
    """RGBA rows; each layer is (colour, test(point in the 44x44 viewBox) -> bool)."""
    rows = []
    for py in range(size):
        row = bytearray([0])  # PNG filter type 0
        for px in range(size):
            r = g = b = a = 0.0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    point = ((px + (sx + 0.5) / SAMPLES) * 44 / size, (py + (sy + 0.5) / SAMPLES) * 44 / size)
                    colour = background
                    for layer_colour, test in layers:
                        if test(point):
                            colour = layer_colour
                    if colour is not None:
                        r, g, b, a = r + colour[0], g + colour[1], b + colour[2], a + 255
            n = SAMPLES * SAMPLES
            covered = a / 255
            row += bytes(
                [round(r / covered) if covered else 0, round(g / covered) if covered else 0,
                 round(b / covered) if covered else 0, round(a / n)]
            )
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    v = [(9.0, 12.0), (22.0, 34.0), (35.0, 12.0)]
    flame = leaf()
    color = render(
        192,
        [(WHITE, lambda p: near_polyline(p, v, 2.25)), (ORANGE, lambda p: inside(p, flame))],
        BLUE,
    )
    (HERE / "color.png").write_bytes(color)
    # The outline icon is white on transparent only, drawn a little bolder to stay legible at 32 px.
    bold_v = [(8.0, 12.0), (22.0, 35.0), (36.0, 12.0)]
    bold_flame = leaf(scale=1.15, top=5.5)
    outline = render(
        32,
        [(WHITE, lambda p: near_polyline(p, bold_v, 2.6)), (WHITE, lambda p: inside(p, bold_flame))],
        None,
    )
    (HERE / "outline.png").write_bytes(outline)


if __name__ == "__main__":
    main()

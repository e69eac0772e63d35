"""The accessibility audit of the browser tests: axe-core (tests/vendor/axe.min.js),
injected with Playwright, reporting the violations of impact serious or critical.

The script is evaluated through the DevTools protocol, so the page's strict CSP (which
would refuse an injected <script> tag) does not apply to it, and the pages are tested as
they are served."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")
# WCAG 2.0/2.1 A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_results(page: Any, include: str | None = None) -> dict[str, Any]:
    """Runs axe on the page (or the element `include`, a CSS selector)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    return dict(
        page.evaluate(
            """async ([include, tags]) => {
                const context = include ? { include: [include] } : document;
                // preload: false — axe would copy the stylesheets into <style> tags (for its
                // orientation-lock rule), which the page's CSP rightly refuses.
                const result = await window.axe.run(context, {
                    runOnly: { type: "tag", values: tags }, preload: false,
                });
                return { violations: result.violations, passes: result.passes.length };
            }""",
            [include, TAGS],
        )
    )


def blocking_violations(page: Any, include: str | None = None) -> list[str]:
    """Serious and critical violations, one readable line per rule and element."""
    results = axe_results(page, include)
    assert results["passes"] > 0, "axe checked nothing"
    lines = []
    for violation in results["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        for node in violation["nodes"]:
            lines.append(f"{violation['impact']} {violation['id']}: {node.get('target')} – {violation['help']}")
    return lines

"""How well each intent is recognised (F1), for the intent list.

The training helper's evaluation of the active model is the best source; until it is
wired in (`F1Source` in the gateway, see docs/admin.md), the figures come from the last
`make bench` (bench/results.json: cross-validation per intent). Unknown → not shown.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.settings import PROJECT_ROOT

BENCH_RESULTS = PROJECT_ROOT / "bench" / "results.json"


def bench_f1(path: Path = BENCH_RESULTS) -> dict[str, float]:
    """Per-intent F1 from bench/results.json; {} when the file or the figures are missing."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    figures = data.get("intent_f1_per_intent") or (data.get("cross_validation") or {}).get("per_intent_f1") or {}
    return {str(k): float(v) for k, v in figures.items() if isinstance(v, int | float)}


def f1_for(name: str, figures: dict[str, float]) -> float | None:
    """An intent's F1; a retrieval intent (faq/x) has its group's (Rasa scores faq as one)."""
    if name in figures:
        return figures[name]
    return figures.get(name.split("/", 1)[0])

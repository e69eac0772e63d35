"""Reading Rasa's training output: which component is training, the epoch, and tqdm's
own elapsed and remaining time (plain functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# tqdm's line: "Epochs:  45%|████▌     | 27/60 [00:10<00:12,  2.61it/s, t_loss=1.2]"
EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)")
# Rasa's graph trainer: "Starting to train component 'DIETClassifier'." and the cache's
# "Restored component 'CountVectorsFeaturizer' from cache."
COMPONENT = re.compile(r"(?:Starting to train|training) component '([A-Za-z_.]+)'", re.IGNORECASE)
RESTORED = re.compile(r"Restored component '([A-Za-z_.]+)' from cache")


@dataclass
class Progress:
    component: str = ""
    epoch: int = 0
    epochs: int = 0
    component_remaining: float | None = None  # seconds, tqdm's estimate for this component
    restored: int = 0  # components taken from Rasa's cache


def seconds(clock: str) -> float | None:
    """"01:02" or "1:02:03" → seconds; "?" → None."""
    try:
        total = 0.0
        for part in clock.split(":"):
            total = total * 60 + int(part)
        return total
    except ValueError:
        return None


def feed(progress: Progress, text: str) -> bool:
    """Read one chunk of output (tqdm separates its updates with carriage returns).
    Returns True when something changed."""
    changed = False
    for line in re.split(r"[\r\n]+", text):
        if match := COMPONENT.search(line):
            if match.group(1) != progress.component:
                progress.component = match.group(1).rsplit(".", 1)[-1]
                progress.epoch = progress.epochs = 0
                progress.component_remaining = None
                changed = True
        elif RESTORED.search(line):
            progress.restored += 1
            changed = True
        elif match := EPOCHS.search(line):
            progress.epoch, progress.epochs = int(match.group(1)), int(match.group(2))
            progress.component_remaining = seconds(match.group(4))
            changed = True
    return changed


def tail(previous: str, text: str, limit: int = 4000) -> str:
    """The last `limit` characters of the log, with tqdm's rewritten lines collapsed."""
    joined = previous + text
    lines = [line.rsplit("\r", 1)[-1] for line in joined.split("\n")]
    return "\n".join(lines)[-limit:]

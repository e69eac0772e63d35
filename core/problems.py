"""Why a change is refused: problems in Swedish, each tied to the form field it is about.
Plain (no database, no web), so business rules anywhere can raise them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str  # the form field it is about ("" for the whole form)
    message: str  # Swedish, for the admin


class Invalid(ValueError):
    """The change breaks a rule; nothing was saved."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]

    @property
    def general(self) -> list[str]:
        return [p.message for p in self.problems if not p.field]


def check(problems: Iterable[Problem]) -> None:
    found = list(problems)
    if found:
        raise Invalid(found)

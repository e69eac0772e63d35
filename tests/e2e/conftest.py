from __future__ import annotations

import pytest

# Lines the end-to-end tests want shown in the run's summary (e.g. the dev-set score),
# whatever pytest's verbosity.
SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("answer quality")
        for line in SUMMARY:
            terminalreporter.write_line(line)

"""README screenshots of the two screens: the chat widget on the demo page in the middle of
a conversation with an advisor, and the advisor console with a claimed chat.

    .venv/bin/python -m scripts.screenshots                 # self-contained (see below)
    .venv/bin/python -m scripts.screenshots --base-url http://127.0.0.1:8080 \\
        --email anna@example.se --password ...              # against a running stack

Self-contained mode starts the real gateway on a loopback port with a temporary SQLite
database, an advisor account and a scripted stand-in for Rasa (no trained model needed),
then drives Debian's Chromium (scripts/install_browser.sh) through Playwright. With
--base-url it uses a running gateway (and its real bot) and an existing advisor account.

Writes docs/screenshots/widget.png and docs/screenshots/console.png (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT

# Tuesday 24 November 2026, 10:12 in Stockholm: inside opening hours.
DEMO_MOMENT = dt.datetime(2026, 11, 24, 9, 12, tzinfo=dt.timezone.utc)
ADVISOR_EMAIL = "anna.berg@foretagssupport.se"
ADVISOR_NAME = "Anna Berg"
ADVISOR_PASSWORD = "skarmbild-demo-2026"

QUESTION = (
    "Hej! Vi är ett verkstadsföretag i Köping med 12 anställda. Vi behöver låna pengar "
    "till en ny maskin men banken vill inte låna ut hela summan."
)
REFERRAL = (
    "Almi Företagspartner Mälardalen lånar ut pengar till små och medelstora företag som "
    "komplement till banken, till exempel företagslån och mikrolån. Almi kan ofta gå in "
    "när banken inte vill ta hela risken. Du når Almi på https://www.almi.se/malardalen/.\n\n"
    "Vill ni se över hela situationen kan Västmanlands Företagssupport också hjälpa till."
)
SECOND_QUESTION = "Vi måste tyvärr varsla fyra personer. Hur gör vi det på rätt sätt?"
ADVISOR_REPLY = (
    "Hej! Jag heter Anna och är rådgivare på Företagssupporten. Hur mycket behöver ni "
    "låna ungefär, och har ni redan varit i kontakt med Almi?"
)
COMPANY_ANSWER = "Ungefär 800 000 kr. Nej, vi har inte pratat med Almi än."
ADVISOR_TYPING = "Då föreslår jag att vi bokar ett möte med Almi"
COMPANY_TYPING = "Passar det på torsdag"


def demo_rasa() -> Any:
    """The tests' fake Rasa with realistic Swedish answers for the scripted conversation."""
    from tests.gateway.fake_rasa import FakeRasa

    class DemoRasa(FakeRasa):
        def reply(self, conv: Any, text: str) -> list[dict[str, Any]]:
            if text == QUESTION:
                return [
                    {
                        "text": REFERRAL,
                        "buttons": [
                            {"title": "Kontaktuppgifter", "payload": "/ask_contact"},
                            {"title": "Fler alternativ", "payload": "/more_options"},
                            {"title": "Prata med en rådgivare", "payload": "/request_human"},
                        ],
                    }
                ]
            if text == SECOND_QUESTION:
                return [
                    {
                        "text": "Ett varsel om uppsägning ska lämnas till Arbetsförmedlingen "
                        "innan ni förhandlar med facket. Västmanlands Företagssupport "
                        "kan hjälpa er med nästa steg."
                    }
                ]
            if text.strip().lower() == "/request_human":
                conv.paused = True
                asked = [m for m in conv.messages if not m.startswith("/")]
                summary = {
                    "asked": asked[-3:],
                    "understood": ["Lån och finansiering"],
                    "targets_given": ["Almi Företagspartner Mälardalen"],
                    "text": "Verkstadsföretag i Köping (12 anställda) behöver finansiera en "
                    "ny maskin; banken vill inte ta hela risken. Assistenten hänvisade "
                    "till Almi.",
                }
                if SECOND_QUESTION in asked:
                    summary["understood"] = ["Varsel"]
                    summary["targets_given"] = ["Arbetsförmedlingen"]
                    summary["text"] = "Företaget ska varsla fyra anställda."
                return [
                    {"custom": {"handoff": {"reason": "request_human", "summary": summary}}},
                    {"text": "Jag kopplar dig till en rådgivare."},
                ]
            result: list[dict[str, Any]] = super().reply(conv, text)
            return result

    return DemoRasa()


def ask_for_advisor(page: Any) -> None:
    """Clicks the bot's "Prata med en rådgivare" button (or the widget's own link)."""
    log = page.get_by_role("log", name="Meddelanden i chatten")
    button = log.get_by_role("button", name="Prata med en rådgivare")
    if button.count():
        button.last.click()
    else:
        page.locator(".fineprint").get_by_role("button", name="Prata med en rådgivare").click()
    page.get_by_text("Du står i kö till en rådgivare.").wait_for()


def take_screenshots(browser: Any, base_url: str, email: str, password: str, out: Path) -> None:
    from playwright.sync_api import expect

    from tests.browser_support import console_login, open_widget

    out.mkdir(parents=True, exist_ok=True)

    def context(width: int, height: int) -> Any:
        ctx = browser.new_context(
            viewport={"width": width, "height": height},
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
        )
        ctx.set_default_timeout(15_000)
        return ctx

    # The company: a question, a referral, then a request for an advisor.
    company = context(1280, 800).new_page()
    box = open_widget(company, base_url)
    box.fill(QUESTION)
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")
    log.locator(".msg-bot").first.wait_for()
    ask_for_advisor(company)

    # Another company waits in the queue, so the console shows one.
    other = context(1280, 800).new_page()
    other_box = open_widget(other, base_url)
    other_box.fill(SECOND_QUESTION)
    other_box.press("Enter")
    other.get_by_role("log").locator(".msg-bot").first.wait_for()
    ask_for_advisor(other)

    # The advisor claims the first chat and answers.
    advisor = context(1440, 900).new_page()
    console_login(advisor, base_url, _Account(email, password))
    queue = advisor.locator("#queue-list").get_by_role("button")
    expect(queue).to_have_count(2)
    queue.first.click()
    advisor.get_by_role("button", name="Ta chatten").click()
    reply = advisor.get_by_role("textbox", name="Svar till företaget")
    reply.fill(ADVISOR_REPLY)
    reply.press("Enter")
    log.get_by_text(ADVISOR_REPLY).wait_for()

    # The company answers; the advisor starts typing; the company starts typing.
    box.fill(COMPANY_ANSWER)
    box.press("Enter")
    advisor.get_by_role("log").get_by_text(COMPANY_ANSWER).wait_for()
    reply.press_sequentially(ADVISOR_TYPING, delay=5)
    company.get_by_text(f"{_advisor_name(advisor)} skriver").wait_for()
    box.blur()
    company.wait_for_timeout(400)
    company.screenshot(path=str(out / "widget.png"))

    box.press_sequentially(COMPANY_TYPING, delay=5)
    advisor.get_by_text("Företaget skriver …").wait_for()
    advisor.wait_for_timeout(400)
    advisor.screenshot(path=str(out / "console.png"))

    for page in (company, other, advisor):
        page.context.close()


class _Account:
    def __init__(self, email: str, password: str) -> None:
        self.email = email
        self.password = password
        self.name = ""


def _advisor_name(page: Any) -> str:
    return str(page.locator("#advisor-name").inner_text()).strip()


def run_local(browser: Any, out: Path) -> None:
    """The real gateway with a temporary database and the scripted Rasa."""
    from bot.accounts import create_advisor
    from core.db import make_engine, make_sessionmaker
    from scripts.db import upgrade
    from tests.browser_support import start_gateway, stop_gateway

    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gateway.db'}"
        upgrade(db_url)
        engine = make_engine(db_url)
        try:
            create_advisor(make_sessionmaker(engine), ADVISOR_EMAIL, ADVISOR_NAME, ADVISOR_PASSWORD)
        finally:
            engine.dispose()
        gateway = start_gateway(db_url, Path(tmp) / "var", DEMO_MOMENT, rasa=demo_rasa())
        try:
            take_screenshots(browser, gateway.url, ADVISOR_EMAIL, ADVISOR_PASSWORD, out)
        finally:
            stop_gateway(gateway)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.screenshots", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--base-url", help="a running gateway, e.g. http://127.0.0.1:8080")
    parser.add_argument("--email", help="advisor e-mail (with --base-url)")
    parser.add_argument("--password", help="advisor password (with --base-url)")
    args = parser.parse_args(argv)
    if args.base_url and not (args.email and args.password):
        parser.error("--base-url needs --email and --password of an advisor account")

    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM_ARGS, find_chromium

    chromium = find_chromium()
    if chromium is None:
        print("Chromium is missing: run scripts/install_browser.sh first.", file=sys.stderr)
        return 1
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            if args.base_url:
                base = args.base_url.rstrip("/")
                take_screenshots(browser, base, args.email, args.password, args.out)
            else:
                run_local(browser, args.out)
        finally:
            browser.close()
    for name in ("widget.png", "console.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

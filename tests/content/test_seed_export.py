"""The content in the database: seeded from the repository's Rasa files without ever undoing
an admin's edit, and exported back as a Rasa project that says the same thing."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from content.__main__ import main as content_cli
from content.export import check_project, load_project, write_rasa_project
from content.models import REFERRAL, RETRIEVAL, DialogueBlock, Example, Intent, Response
from content.seed import load_seed, seed_content
from content.validation import example_key
from core.db import transaction
from core.settings import PROJECT_ROOT

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"


def nlu_examples(root: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            out[entry["intent"]] = [line[2:] for line in entry["examples"].splitlines()]
    return out


def rules(root: Path) -> list[str]:
    return sorted(str(r) for p in (root / "data" / "rules").glob("*.yml")
                  for r in yaml.safe_load(p.read_text(encoding="utf-8"))["rules"])


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def intent(session: Session, name: str) -> Intent:
    row = session.scalar(select(Intent).where(Intent.name == name))
    assert row is not None, name
    return row


# ---------------------------------------------------------------- seeding


def test_the_seed_reads_every_intent_example_response_and_story_of_the_files() -> None:
    seed = load_seed()
    files = nlu_examples(PROJECT_ROOT)
    assert {i["name"]: i["examples"] for i in seed.intents} == files
    domain = load_yaml(PROJECT_ROOT / "domain.yml")
    assert [r["name"] for r in seed.responses] == list(domain["responses"])
    stories = [s for p in (PROJECT_ROOT / "data" / "stories").glob("*.yml") for s in load_yaml(p)["stories"]]
    assert sorted(b["name"] for b in seed.blocks if b["kind"] == "story") == sorted(s["story"] for s in stories)


def test_one_step_rules_become_each_intents_binding_and_its_kind(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        financing = intent(s, "financing")
        assert (financing.kind, financing.action, financing.response) == (REFERRAL, "action_referral", None)
        greet = intent(s, "greet")
        assert (greet.kind, greet.action, greet.response) == ("conversation", "utter_greet", "utter_greet")
        faq = intent(s, "faq/is_it_free")
        assert (faq.kind, faq.action, faq.response) == (RETRIEVAL, "utter_faq", "utter_faq/is_it_free")
        # inform_situation re-ranks with action_referral but has no topic of its own.
        assert intent(s, "inform_situation").kind == "conversation"
        # Rasa's own nlu_fallback has no examples: its rule is kept as written.
        kept = s.scalars(select(DialogueBlock.name).where(DialogueBlock.kind == "rule")).all()
        assert any("not understood" in name for name in kept)


def test_seeding_twice_changes_nothing(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        report = seed_content(s)
    assert report.inserted == report.updated == report.kept_admin_edit == []
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Example)) == sum(map(len, nlu_examples(PROJECT_ROOT).values()))


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in ("domain.yml", "config.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    return root


def test_a_reseed_updates_what_no_admin_touched_and_keeps_every_admin_edit(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(factory) as s:
        thank = intent(s, "thank")
        text = "stort tack för tipset om almi"
        thank.examples.append(Example(text=text, key=example_key(text), source="admin"))
        greet = s.scalar(select(Response).where(Response.name == "utter_greet"))
        assert greet is not None
        greet.variations = [{"text": "Hej! Vad kan jag hjälpa till med?"}]
    # A developer edits the files: a new example for thank and goodbye, a new greeting.
    root = copy_project(tmp_path)
    for name in ("thank", "goodbye"):
        path = root / "data" / "nlu" / f"{name}.yml"
        path.write_text(path.read_text(encoding="utf-8") + f"    - ett nytt exempel för {name}\n", encoding="utf-8")
    domain = load_yaml(root / "domain.yml")
    domain["responses"]["utter_greet"] = [{"text": "Välkommen!"}]
    domain["responses"]["utter_thank"] = [{"text": "Varsågod!"}]
    (root / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), encoding="utf-8")

    with transaction(factory) as s:
        report = seed_content(s, root)
    assert set(report.kept_admin_edit) == {"intents/thank", "responses/utter_greet"}
    assert set(report.updated) == {"intents/goodbye", "responses/utter_thank"}
    with factory() as s:
        assert "ett nytt exempel för goodbye" in [e.text for e in intent(s, "goodbye").examples]
        thank_texts = [e.text for e in intent(s, "thank").examples]
        assert "stort tack för tipset om almi" in thank_texts
        assert "ett nytt exempel för thank" not in thank_texts
        variations = {r.name: r.variations for r in s.scalars(select(Response))}
        assert variations["utter_greet"] == [{"text": "Hej! Vad kan jag hjälpa till med?"}]
        assert variations["utter_thank"] == [{"text": "Varsågod!"}]


def test_an_example_the_files_move_to_another_intent_moves_in_the_database(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    root = copy_project(tmp_path)
    moved = nlu_examples(PROJECT_ROOT)["affirm"][0]
    for name, change in (("affirm", lambda t: t.replace(f"    - {moved}\n", "", 1)),
                         ("deny", lambda t: t + f"    - {moved}\n")):
        path = root / "data" / "nlu" / f"{name}.yml"
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with transaction(factory) as s:
        report = seed_content(s, root)
    assert report.skipped_examples == []
    with factory() as s:
        assert moved in [e.text for e in intent(s, "deny").examples]
        assert moved not in [e.text for e in intent(s, "affirm").examples]


# ---------------------------------------------------------------- exporting


def test_the_export_of_the_seeded_database_says_what_the_repository_says(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    target = tmp_path / "export"
    with factory() as s:
        write_rasa_project(s, target)
    assert nlu_examples(target) == nlu_examples(PROJECT_ROOT)
    assert rules(target) == rules(PROJECT_ROOT)
    for path in (PROJECT_ROOT / "data" / "stories").glob("*.yml"):
        assert load_yaml(target / "data" / "stories" / path.name) == load_yaml(path)
    assert load_yaml(target / "domain.yml") == load_yaml(PROJECT_ROOT / "domain.yml")
    assert (target / "config.yml").read_bytes() == (PROJECT_ROOT / "config.yml").read_bytes()


def test_a_retired_intent_leaves_the_export_with_its_response_and_the_stories_that_use_it(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(factory) as s:
        intent(s, "greet").retired = True
    with factory() as s:
        project = load_project(s)
        write_rasa_project(s, tmp_path / "export")
    domain = load_yaml(tmp_path / "export" / "domain.yml")
    assert "greet" not in domain["intents"] and "utter_greet" not in domain["responses"]
    assert "greet" not in nlu_examples(tmp_path / "export")
    assert not any("greet" in rule for rule in rules(tmp_path / "export"))
    assert any("a greeting, a question" in item for item in project.left_out)


def test_text_that_would_break_yaml_is_written_safely(factory: sessionmaker[Session], tmp_path: Path) -> None:
    tricky = ['"citat" och: kolon', "- börjar med streck", "# inte en kommentar", "{klammer} & *stjärna*",
              "| lodstreck >", "tab\tinne", "'enkla' \\ bakstreck"]
    with transaction(factory) as s:
        row = intent(s, "ask_more")
        for text in tricky:
            row.examples.append(Example(text=text, key=example_key(text), source="admin"))
    with factory() as s:
        write_rasa_project(s, tmp_path / "export")
    assert set(tricky) <= set(nlu_examples(tmp_path / "export")["ask_more"])


def test_the_check_before_training_names_an_empty_intent_and_a_missing_answer(
    factory: sessionmaker[Session],
) -> None:
    with factory() as s:
        assert check_project(s) == []
    with transaction(factory) as s:
        thank = intent(s, "thank")
        thank.examples = thank.examples[:1]
        greet = intent(s, "greet")
        greet.action = greet.response = "utter_finns_inte"
    with factory() as s:
        problems = check_project(s)
    assert "Avsikten thank har 1 exempel; den behöver minst 2." in problems
    assert "Avsikten greet besvaras med utter_finns_inte, men det svaret finns inte." in problems


def test_the_command_line_exports_into_a_directory(content_url: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert content_cli(["--url", content_url, "export", "--target", str(tmp_path / "out")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert nlu_examples(tmp_path / "out") == nlu_examples(PROJECT_ROOT)
    assert content_cli(["--url", content_url, "check"]) == 0


@pytest.mark.slow
def test_rasa_accepts_the_exported_project(factory: sessionmaker[Session], tmp_path: Path) -> None:
    if not RASA.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    target = tmp_path / "export"
    with factory() as s:
        write_rasa_project(s, target)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(
        [str(RASA), "data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        cwd=target, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_shipped_intent_has_a_swedish_description_for_the_admins() -> None:
    seed = load_seed()
    described = yaml.safe_load((PROJECT_ROOT / "content" / "descriptions.yml").read_text(encoding="utf-8"))
    assert [i["name"] for i in seed.intents if not i["description"]] == []
    assert set(described["descriptions"]) == {i["name"] for i in seed.intents}  # none stale


@pytest.mark.postgres
def test_seeding_and_a_stale_save_on_postgresql(postgres_url: str) -> None:
    from content import edit
    from core.db import make_engine, make_sessionmaker
    from core.editing import Actor, Conflict
    from scripts.db import seed, upgrade

    upgrade(postgres_url)
    seed(postgres_url)
    assert "0 inserted" in seed(postgres_url).splitlines()[1]  # the content, seeded twice
    engine = make_engine(postgres_url)
    factory = make_sessionmaker(engine)
    try:
        with factory() as s:
            example = edit.get_intent(s, "greet").examples[0]
        actor = Actor(None, "test")
        now = dt.datetime(2026, 12, 4, tzinfo=dt.timezone.utc)
        with transaction(factory) as s:
            edit.edit_example(s, actor, now, example.id, example.version, "hej på er allihop")
        with pytest.raises(Conflict), transaction(factory) as s:
            edit.edit_example(s, actor, now, example.id, example.version, "tjena allihop")
    finally:
        engine.dispose()

"""Reading Rasa's parse data: intents, organisations, schemes, company size, who asks."""

from actions.understanding import (
    employees_from,
    intent_ranking,
    referral_intents,
    situation,
    understand,
)
from directory.views import IntentScore, SchemeView

NAMES = {"almi": ["Almi Företagspartner Mälardalen", "Almi"], "ekn": ["Exportkreditnämnden", "EKN"]}
SCHEMES = {"hyresstod": SchemeView("hyresstod", "Hyresstöd", "boverket", "ended", "",
                                   aliases=("hyresrabatt",))}


def parse(text, intents, entities=()):
    ranking = [{"name": n, "confidence": c} for n, c in intents]
    return {"text": text, "intent": ranking[0] if ranking else {}, "intent_ranking": ranking,
            "entities": [{"entity": e, "value": v} for e, v in entities]}


def test_ranking_keeps_order_and_adds_a_missing_top_intent():
    data = {"intent": {"name": "financing", "confidence": 0.9},
            "intent_ranking": [{"name": "export", "confidence": 0.05}]}
    assert intent_ranking(data) == (IntentScore("financing", 0.9), IntentScore("export", 0.05))


def test_organisations_and_schemes_are_recognised_in_the_text_from_the_names_given():
    u = understand(parse("lån från almis eller hyresrabatten?", [("financing", 0.8)]), NAMES, SCHEMES)
    assert u.organisations == ("almi",)
    assert [s.id for s in u.schemes] == ["hyresstod"]


def test_the_model_need_not_know_a_name_an_alias_given_at_answer_time_is_enough():
    names = {**NAMES, "almi": [*NAMES["almi"], "Almi Mälardalen Invest"]}
    u = understand(parse("hur når jag almi malardalen invest?", [("ask_contact", 0.9)]), names, SCHEMES)
    assert u.organisations == ("almi",)
    assert understand(parse("hur når jag almi malardalen invest?", [("ask_contact", 0.9)]),
                      {"ekn": NAMES["ekn"]}, SCHEMES).organisations == ()


def test_company_size_words():
    assert employees_from("12 anställda") == 12
    assert employees_from("ensamföretagare") == 0
    assert employees_from("inga anstallda") == 0
    assert employees_from("många") is None


def test_a_municipality_speaker_is_recognised():
    u = understand(parse("Vi är en kommun och ett företag varslar", [("layoff_notice", 0.6)]),
                   NAMES, SCHEMES)
    assert situation(u, None, None, None).audience == "municipality"


def test_situation_remembers_what_was_said_before():
    u = understand(parse("vi sitter i Sala", [("inform_situation", 0.9)],
                         [("municipality", "sala")]), NAMES, SCHEMES)
    who = situation(u, "company", 12.0, None)
    assert (who.audience, who.employees, who.municipality) == ("company", 12, "Sala")


def test_only_referral_intents_with_a_topic_count():
    intents = [IntentScore("greet", 0.5), IntentScore("financing", 0.3), IntentScore("nope", 0.2)]
    assert referral_intents(intents, ["financing", "greet"]) == [IntentScore("financing", 0.3)]

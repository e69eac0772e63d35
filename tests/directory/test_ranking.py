"""Who is named first: the ranking rules."""

from directory.ranking import clear_guess, rank_targets
from directory.views import (
    IntentScore,
    SchemeView,
    Situation,
    TopicTargetView,
    TopicView,
)

TOPICS = {
    "financing": TopicView("financing", "Lån och finansiering", (
        TopicTargetView("almi", 0, "Almi lånar ut pengar."),
        TopicTargetView("foretagssupport", 1, "Företagssupporten lotsar."),
    )),
    "export_finance": TopicView("export_finance", "Exportfinansiering", (
        TopicTargetView("ekn", 0, "EKN garanterar."),
        TopicTargetView("almi", 1, "Almi kompletterar."),
    )),
    "municipality_layoff": TopicView("municipality_layoff", "Varsel i kommunen", (
        TopicTargetView("tillvaxtverket", 0, "Stöd till kommuner.", audience="municipality"),
        TopicTargetView("region-vastmanland", 1, "Regionen samordnar."),
    )),
    "layoff_notice": TopicView("layoff_notice", "Varsel", (
        TopicTargetView("arbetsformedlingen", 0, "Varsla hos AF.", audience="company"),
        TopicTargetView("foretagssupport", 1, "Stöd i processen."),
    )),
    "microloans": TopicView("microloans", "Mikrolån", (
        TopicTargetView("almi", 0, "Mikrolån.", max_employees=9),
        TopicTargetView("foretagssupport", 1, "Lots."),
    )),
}


def ids(ranked):
    return [r.organisation_id for r in ranked]


def test_the_topics_first_target_comes_first_with_its_pitch():
    ranked = rank_targets([IntentScore("financing", 0.9)], TOPICS)
    assert ids(ranked) == ["almi", "foretagssupport"]
    assert ranked[0].pitch == "Almi lånar ut pengar."
    assert ranked[0].topic_id == "financing"


def test_a_strong_second_intent_can_outweigh_a_weak_first():
    ranked = rank_targets(
        [IntentScore("financing", 0.40), IntentScore("export_finance", 0.38)], TOPICS
    )
    # almi: 0.40 + 0.38*0.55 beats ekn: 0.38
    assert ids(ranked)[:2] == ["almi", "ekn"]


def test_a_named_organisation_is_preferred():
    ranked = rank_targets([IntentScore("financing", 0.8)], TOPICS, named_organisations=["ekn"])
    assert ids(ranked)[0] == "ekn"
    assert ranked[0].pitch == ""  # not in the topic: the caller uses its summary


def test_a_scheme_points_to_the_organisation_behind_it():
    scheme = SchemeView("exportkreditgaranti", "Exportkreditgaranti", "ekn", "active", "")
    ranked = rank_targets([IntentScore("financing", 0.5)], TOPICS, schemes=[scheme])
    assert ids(ranked)[0] == "ekn"


def test_a_target_for_municipalities_ranks_low_for_a_company():
    intents = [IntentScore("municipality_layoff", 0.5), IntentScore("layoff_notice", 0.45)]
    as_company = rank_targets(intents, TOPICS, Situation(audience="company"))
    as_municipality = rank_targets(intents, TOPICS, Situation(audience="municipality"))
    assert ids(as_company)[0] == "arbetsformedlingen"
    assert ids(as_municipality)[0] == "tillvaxtverket"


def test_unknown_audience_penalises_nobody():
    ranked = rank_targets([IntentScore("municipality_layoff", 0.9)], TOPICS, Situation())
    assert ids(ranked)[0] == "tillvaxtverket"


def test_size_window_demotes_a_target_for_larger_companies():
    small = rank_targets([IntentScore("microloans", 0.9)], TOPICS, Situation(employees=3))
    large = rank_targets([IntentScore("microloans", 0.9)], TOPICS, Situation(employees=40))
    assert small[0].organisation_id == "almi"
    assert large[0].organisation_id == "foretagssupport"


def test_intents_without_a_topic_and_beyond_the_top_three_are_ignored():
    intents = [IntentScore("greet", 0.5), IntentScore("x", 0.2), IntentScore("y", 0.1),
               IntentScore("export_finance", 0.1)]
    assert rank_targets(intents, TOPICS) == []


def test_nothing_understood_gives_no_targets():
    assert rank_targets([], TOPICS) == []


# When unsure: name a guess only when the evidence points to one organisation.

def _guess(intents, named=()):
    scores = [IntentScore(n, c) for n, c in intents]
    return clear_guess(scores, TOPICS, rank_targets(scores, TOPICS, named_organisations=named))


def test_an_unsure_guess_is_named_when_it_clearly_leads():
    guess = _guess([("financing", 0.35), ("export_finance", 0.1)])
    assert guess is not None and guess.organisation_id == "almi"


def test_likely_topics_pointing_to_different_organisations_name_nobody():
    assert _guess([("financing", 0.3), ("export_finance", 0.25)]) is None


def test_too_little_confidence_names_nobody():
    assert _guess([("financing", 0.15)]) is None


def test_topics_that_agree_on_the_first_organisation_are_not_rivals():
    topics_agree = [("layoff_notice", 0.22), ("municipality_layoff", 0.05)]
    guess = _guess(topics_agree)
    assert guess is not None and guess.organisation_id == "arbetsformedlingen"


def test_an_organisation_the_message_names_is_evidence_enough():
    guess = _guess([("financing", 0.2), ("export_finance", 0.19)], named=("ekn",))
    assert guess is not None and guess.organisation_id == "ekn"

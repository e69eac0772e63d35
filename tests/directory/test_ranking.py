"""Who is named first: the ranking rules."""

from directory.ranking import rank_targets
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

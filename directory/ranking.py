"""Who to refer to: rank organisations by topic and situation (plain functions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from directory.views import (
    IntentScore,
    RankedTarget,
    SchemeView,
    Situation,
    TopicTargetView,
    TopicView,
)

# How much a topic's 1st, 2nd, 3rd ... target counts, times the intent's confidence.
POSITION_WEIGHTS = (1.0, 0.55, 0.35, 0.25)
# A company that names an organisation usually asks about that organisation: the name
# outweighs even a confident topic.
NAMED_ORGANISATION_BOOST = 1.0
# A recognised scheme says more precisely than the intent which organisation is meant.
SCHEME_BOOST = 0.6
# A target meant for municipalities, offered to a company (or the reverse), or outside its
# company-size window, still counts, but much less.
AUDIENCE_MISMATCH = 0.3
SIZE_MISMATCH = 0.5
# Only the few most likely intents take part; the long tail is noise.
INTENTS_CONSIDERED = 3


def target_fit(target: TopicTargetView, situation: Situation) -> float:
    """1.0 when the target suits who is asking, less when it does not."""
    fit = 1.0
    if "any" not in (target.audience, situation.audience) and target.audience != situation.audience:
        fit *= AUDIENCE_MISMATCH
    employees = situation.employees
    if employees is not None and (
        (target.min_employees is not None and employees < target.min_employees)
        or (target.max_employees is not None and employees > target.max_employees)
    ):
        fit *= SIZE_MISMATCH
    return fit


def rank_targets(
    intents: Sequence[IntentScore],
    topics: Mapping[str, TopicView],
    situation: Situation | None = None,
    named_organisations: Iterable[str] = (),
    schemes: Iterable[SchemeView] = (),
) -> list[RankedTarget]:
    """Organisations in the order a reply should name them, best first.

    Each of the most likely intents contributes its topic's targets, weighted by the
    intent's confidence and the target's position in the topic; named organisations and
    the organisations behind recognised schemes are boosted. A target keeps the pitch of
    the topic that contributed most to it; a boosted organisation outside every topic has
    no pitch (the caller uses its summary).
    """
    situation = situation or Situation()
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, str | None, str]] = {}  # org -> (contribution, topic, pitch)
    reasons: dict[str, list[str]] = {}

    def add(org: str, amount: float, topic: str | None, pitch: str, reason: str) -> None:
        scores[org] = scores.get(org, 0.0) + amount
        reasons.setdefault(org, []).append(reason)
        if pitch and (org not in best or amount > best[org][0] or not best[org][2]):
            best[org] = (amount, topic, pitch)
        elif org not in best:
            best[org] = (0.0, topic, "")

    for intent in intents[:INTENTS_CONSIDERED]:
        topic = topics.get(intent.name)
        if topic is None or intent.confidence <= 0:
            continue
        for position, target in enumerate(topic.targets):
            weight = POSITION_WEIGHTS[min(position, len(POSITION_WEIGHTS) - 1)]
            amount = intent.confidence * weight * target_fit(target, situation)
            add(target.organisation_id, amount, topic.id, target.pitch,
                f"{topic.id}#{position + 1}")
    for org in dict.fromkeys(named_organisations):
        add(org, NAMED_ORGANISATION_BOOST, None, "", "named")
    for scheme in schemes:
        add(scheme.organisation_id, SCHEME_BOOST, None, "", f"scheme:{scheme.id}")

    order = sorted(scores, key=lambda org: -scores[org])  # stable: ties keep topic order
    return [
        RankedTarget(
            organisation_id=org,
            score=round(scores[org], 4),
            topic_id=best[org][1],
            pitch=best[org][2],
            reasons=tuple(reasons[org]),
        )
        for org in order
    ]


# When the assistant is unsure (the fallback), it names its best guess only when the
# evidence points to one organisation: the message names it (or a scheme it runs), or the
# most likely topic reaches GUESS_FLOOR and is CLEAR_LEAD times as likely as every likely
# topic whose first organisation is another one. Otherwise it asks which topic is meant:
# a wrong name is worse than a clarifying question.
GUESS_FLOOR = 0.2
CLEAR_LEAD = 1.5


def clear_guess(
    intents: Sequence[IntentScore], topics: Mapping[str, TopicView], ranked: Sequence[RankedTarget]
) -> RankedTarget | None:
    """The target an unsure reply may name (from `ranked`), or None when it should ask."""
    if not ranked:
        return None
    if any(reason == "named" or reason.startswith("scheme:") for reason in ranked[0].reasons):
        return ranked[0]
    firsts = [
        (intent.confidence, topics[intent.name].targets[0].organisation_id)
        for intent in intents[:INTENTS_CONSIDERED]
        if intent.name in topics and topics[intent.name].targets
    ]
    if not firsts or firsts[0][0] < GUESS_FLOOR:
        return None
    confidence, leader = firsts[0]
    rivals = [c for c, org in firsts[1:] if org != leader]
    if rivals and confidence < CLEAR_LEAD * max(rivals):
        return None
    return next((r for r in ranked if r.organisation_id == leader), None)

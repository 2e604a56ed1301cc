"""`make eval`'s figures as regression gates, and the corpus they rest on.

The floors are the figures the reader reached on the held-out part when it was
built (docs/crisis.md), rounded down: a change that loses a crisis fails here.
Issue 14's own targets are printed by `make eval`; the false-alarm target is
not met yet, and docs/crisis.md says why. Figures only: never a timing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ivr.content.model import Content
from ivr.content.yamlsrc import Where
from ivr.crisis.corpus import (
    CATEGORIES,
    CRISIS_DIR,
    HELDOUT_FILE,
    LANGUAGES,
    TRAIN_FILE,
    Example,
    load_corpus,
)
from ivr.crisis.evaluate import Report, evaluate
from ivr.crisis.model import ModelError, model_from_json
from ivr.crisis.reader import Stage
from ivr.crisis.rules import IDIOM, RuleError, compile_rule, phrase_regex
from ivr.crisis.text import crisis_text
from ivr.crisis.train import choose_thresholds
from ivr.platform.config import PROJECT_ROOT

FOLDER = PROJECT_ROOT / "flows" / CRISIS_DIR


def assert_read_by_a_rule(content: Content, text: str, category: str) -> None:
    """TEXT is a crisis of CATEGORY at once, by a rule: no score decides it."""
    reading = content.crisis.read(text)
    assert reading.crisis
    assert reading.stage is Stage.RULE
    assert reading.category == category


# What the held-out part gives now, held: a change must not lose a crisis it
# finds. With the sentence encoder (2026-12-07) English went from 140/140
# found with 17/121 false alarms to 139/140 with 13/121, Spanish from 130/131
# with 11/91 to 130/131 with 9/91: the false-alarm ceilings came down with it.
# The fifth round of training texts (2026-12-07): English 139/140 with 12/121,
# Spanish 130/131 with 7/91. No idiom that can hold a crisis (2026-12-07
# evening): English 139/140 with 12/121, Spanish 130/131 with 6/91. Those
# false alarms rested on one lucky fold split; training on the mean of five
# (2026-12-07 night) holds still, and gives 139/140 with 14/121, 131/131
# with 8/91 (docs/crisis.md, "Training that holds still"). Threats to someone
# else, by rule and in 24 training texts: 140/140 with 13/121, 131/131 with 8/91.
# Plain statements in few words, by rule (2026-12-07 late night): 140/140 with 14/121,
# 130/131 with 5/91; a review's fixes to them: 139/140 (the one missed near) with
# 13/121, 130/131 with 5/91. Spanish has gone 5 to 8 of 91 by retraining alone.
FLOORS = {
    "recall": {"en": 0.99, "es": 0.99},
    "explicit": {"en": 1.0, "es": 1.0},
    "false_alarms": {"en": 0.12, "es": 0.09},  # at most
}


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return load_corpus(FOLDER, HELDOUT_FILE)


@pytest.fixture(scope="module")
def report(content: Content, heldout: list[Example]) -> Report:
    return evaluate(content.crisis, heldout)


@pytest.mark.parametrize("language", LANGUAGES)
def test_held_out_recall_and_false_alarms_hold_their_floors(report: Report, language: str) -> None:
    assert report.recall(language) >= FLOORS["recall"][language]
    assert report.explicit_recall(language) >= FLOORS["explicit"][language]
    assert report.false_alarms(language) <= FLOORS["false_alarms"][language]


def test_a_crisis_is_answered_in_its_own_language(report: Report) -> None:
    assert report.wrong_language == 0


def test_the_corpus_is_big_enough_half_spanish_and_covers_every_category() -> None:
    train = load_corpus(FOLDER, TRAIN_FILE)
    heldout = load_corpus(FOLDER, HELDOUT_FILE)
    every = train + heldout
    assert len(every) >= 600
    assert sum(e.language == "es" for e in every) / len(every) >= 0.40
    for part in (train, heldout):
        labels = Counter((e.label, e.language) for e in part)
        for category in (*CATEGORIES, "none"):
            for language in LANGUAGES:
                assert labels[(category, language)] >= 10, (category, language)
        assert sum(e.lookalike for e in part) >= 100


def test_no_held_out_text_is_trained_on() -> None:
    trained = {crisis_text(e.text) for e in load_corpus(FOLDER, TRAIN_FILE)}
    leaked = [e.where for e in load_corpus(FOLDER, HELDOUT_FILE) if crisis_text(e.text) in trained]
    assert leaked == []


def test_the_same_text_always_gets_the_same_reading(content: Content) -> None:
    text = "mi hija se tomó un frasco de pastillas"
    assert {content.crisis.read(text) for _ in range(5)} == {content.crisis.read(text)}


# -- the rule language and the model file --------------------------------------


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("kill* <self>", "i will kill myself", "killing it at work"),
        ("matar(me|se)", "voy a matarme", "me mata el calor"),
        ("(going to|gonna) jump (off|from)", "im gonna jump off", "gonna jump in the pool"),
        ("pills?", "one pill", "pillow"),
        ("took ~2 bottle", "took the whole bottle", "took my pill and a bottle"),
    ],
)
def test_a_rule_reads_whole_words_slots_and_gaps(pattern: str, matches: str, misses: str) -> None:
    rule = compile_rule("suicidal", "en", pattern, {"self": phrase_regex("myself|himself", {})})
    assert rule.regex.search(f" {crisis_text(matches)} ")
    assert not rule.regex.search(f" {crisis_text(misses)} ")


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("kill <nobody>", "no slot named <nobody>"),
        ("~ kill", "a gap (~) must stand between words"),
        ("kill (me", "unbalanced parentheses"),
        ("kill ~20 me", "a gap is 1 to 12 words"),
        ("a?", "matches an empty word"),
        ("kill [me]", "a word may hold only"),
    ],
)
def test_a_broken_rule_is_refused_with_why(pattern: str, why: str) -> None:
    with pytest.raises(RuleError, match=why.replace("(", r"\(").replace(")", r"\)")):
        compile_rule("suicidal", "en", pattern, {})


def test_a_text_gets_its_own_languages_thresholds_and_an_unclear_one_the_lower(
    content: Content,
) -> None:
    model = content.crisis.model
    shared = (model.crisis_threshold, model.near_threshold)
    assert model.thresholds_for(None) == shared
    assert model.thresholds_for("xx") == shared
    for language in LANGUAGES:
        crisis, near = model.thresholds_for(language)
        assert crisis >= shared[0]
        assert near >= shared[1]
    assert min(model.thresholds_for(language)[0] for language in LANGUAGES) == shared[0]


def _synthetic(language: str, crisis: bool, number: int) -> Example:
    return Example(
        f"text {number}",
        language,
        "suicidal" if crisis else "none",
        False,
        False,
        Where("train.yaml", number),
    )


def test_each_language_gets_the_highest_threshold_that_finds_its_own_crises() -> None:
    """English crises score 0.01 to 1.00, Spanish 0.51 to 1.00: at 98.5 %, each
    may leave one of its 100 below its threshold; the shared one is the lower;
    near is shared."""
    examples, scores = [], []
    for number in range(100):
        examples.append(_synthetic("en", True, number))
        scores.append((number + 1) / 100)
        examples.append(_synthetic("es", True, number))
        scores.append(0.5 + (number + 1) / 200)
    decided: list[bool | None] = [None] * len(examples)
    (crisis, near), own = choose_thresholds(examples, scores, decided)
    assert own == {"en": pytest.approx(0.02, abs=1e-5), "es": pytest.approx(0.51, abs=1e-5)}
    assert crisis == own["en"]
    assert near <= crisis
    # Grouped as the reader will read them: a Spanish text whose words read as
    # English is held to English's threshold.
    groups = [e.language for e in examples]
    groups[1] = "en"  # the lowest Spanish crisis, 0.505
    (_, _), by_guess = choose_thresholds(examples, scores, decided, groups)
    assert by_guess["es"] == pytest.approx(0.515, abs=1e-5)
    assert by_guess["en"] == pytest.approx(0.02, abs=1e-5)


def test_a_broken_model_file_is_refused(content: Content) -> None:
    good = content.crisis.model.to_json()
    for broken in (
        {**good, "format": 99},
        {**good, "intercepts": [0.0]},
        {**good, "thresholds": {"crisis": 0.2, "near": 0.5}},
        {k: v for k, v in good.items() if k != "weights"},
        {k: v for k, v in good.items() if k != "encoder"},  # thresholds for which scores?
        # a language's own thresholds below the shared ones: an unclear text would be safer
        {
            **good,
            "thresholds": {
                **good["thresholds"],
                "by_language": {"es": 0.01},
            },
        },
        {**good, "thresholds": {**good["thresholds"], "by_language": {"es": {"crisis": 0.3}}}},
        {
            **good,
            "thresholds": {
                **good["thresholds"],
                "by_language": {"EN": 0.9},
            },
        },
    ):
        with pytest.raises(ModelError):
            model_from_json(broken)
    assert model_from_json(good).score("i want to die") == content.crisis.model.score(
        "i want to die"
    )


def test_the_rules_file_problems_are_reported_with_their_line(tmp_path: Path) -> None:
    from ivr.crisis.rules_file import read_rules

    path = tmp_path / "rules.yaml"
    path.write_text(
        "slots: {en: {}, es: {}}\nidioms: {en: [x], es: [y]}\n"
        "rules:\n  suicidal:\n    en: [kill <nobody>]\n    es: [matarme]\n"
    )
    rules, problems = read_rules(path, "crisis/rules.yaml")
    assert rules is None
    messages = [str(p) for p in problems]
    assert any(m.startswith("crisis/rules.yaml:5: rules.suicidal.en:") for m in messages)
    assert any("missing category 'overdose'" in m for m in messages)


def test_a_short_word_longer_than_a_short_text_is_refused_with_its_line(tmp_path: Path) -> None:
    """A short word of four words could never be said in a short text."""
    from ivr.crisis.rules_file import read_rules

    path = tmp_path / "rules.yaml"
    path.write_text(
        "slots: {en: {}, es: {}}\nidioms: {en: [x], es: [y]}\n"
        "short:\n  en: {self_harm: [i cut myself again]}\n  es: {self_harm: [me corte]}\n"
        "rules:\n  suicidal:\n    en: [kill myself]\n    es: [matarme]\n"
    )
    _, problems = read_rules(path, "crisis/rules.yaml")
    assert any(
        str(p).startswith("crisis/rules.yaml:4: short.en.self_harm: 'i cut myself again' must")
        for p in problems
    ), problems


# -- guards: a rule's match that a negation or a distance makes not decisive ---


@pytest.mark.parametrize(
    ("text", "guard"),
    [
        ("im not gonna hurt myself, just lonely", "before"),
        ("no me quiero matar, solo estoy cansada", "before"),
        ("i tried to kill myself years ago, doing much better now", "distance"),
        ("hace años intenté quitarme la vida, hoy estoy bien", "distance"),
    ],
)
def test_a_guarded_rule_leaves_the_text_to_the_score_and_near_at_least(
    content: Content, text: str, guard: str
) -> None:
    reader = content.crisis
    _, ruled = reader.rules.read_text(text)
    assert ruled.match is None
    assert ruled.guarded is not None
    assert ruled.guard == guard
    assert f"rule_{guard}" in ruled.markers
    reading = reader.read(text)
    assert reading.stage is not Stage.RULE
    assert reading.crisis or reading.near  # the 988 line, whatever the score says


@pytest.mark.parametrize(
    "text",
    [
        "no puedo más, me voy a matar",  # a "no" that does not end where the match begins
        "i dont want to die but i just took all my pills",  # one guarded match, one not
        "ya no quiero vivir",  # the negation is the rule's own
        "im going to kill myself tonight",
    ],
)
def test_a_negation_elsewhere_does_not_guard_a_plain_statement(content: Content, text: str) -> None:
    reading = content.crisis.read(text)
    assert reading.crisis
    assert reading.stage is Stage.RULE


# A crisis each rule must read, in its category, with no score asked, by why
# it is listed (each was read otherwise once).
READ_BY_A_RULE: dict[str, list[tuple[str, str]]] = {
    "a negation guards only its own sentence, in its own language": [
        # A "no" that answers something else: its sentence ended before the crisis.
        # Each was guarded until 2026-12-07, and left to the score.
        ("no. he's gonna kill me", "danger_now"),
        ("No, I want to die", "suicidal"),
        ("no!! im going to kill myself tonight", "suicidal"),
        ("are you ok? no - i took all my pills", "overdose"),
        ("No. Me voy a matar", "suicidal"),
        ("no, me quiero morir", "suicidal"),
        ("Nunca.\nMe voy a matar hoy", "suicidal"),
        ('me dijo "no" y me va a matar', "danger_now"),
        # A pause breaks too, on purpose: "im not... going to hurt myself" hesitates
        # over its negation, and a counselor should hear it.
        ("im not... going to hurt myself", "self_harm"),
        # Spanish "no" is not an English negation, nor English "not" a Spanish one
        ("no i want to kill myself", "suicidal"),
        ("no i took all my pills", "overdose"),
    ],
    "a negation the crisis holds is not a guard": [
        # A promise refused holds its own negation: guarded by "wont" until 2026-12-07.
        ("i cant promise i wont hurt myself tonight", "self_harm"),
        ("cant guarantee i wont kill myself tonight", "suicidal"),
        ("why not kill myself at this point", "suicidal"),
        ("por que no me mato ya", "suicidal"),
        ("no te prometo que no me voy a matar", "suicidal"),
        # a promise taken back (2026-12-07 late night; guarded and left to the score before)
        ("i told my therapist i wasnt going to kill myself but i lied", "suicidal"),
        ("she told me she wasnt going to hurt herself but she lied", "self_harm"),
        ("le dije que no me iba a matar pero sí lo voy a hacer", "suicidal"),
        ("le prometí que no me iba a cortar pero mentí", "self_harm"),
        ("le dije a mi terapeuta que no me iba a matar pero sí lo voy a hacer", "suicidal"),
        ("mi ex juró que no la iba a matar pero mintió", "danger_now"),  # not the speaker
    ],
    # Three words or fewer never reach the score: a plain statement no rule or
    # short word read was missed outright ("me corté", "me sobredosifiqué" in the
    # training part until 2026-12-07 late night). Longer ones the score read lowest.
    "a plain statement in few words": [
        ("me corté", "self_harm"),
        ("me estoy cortanto", "self_harm"),
        ("me sobredosifiqué", "overdose"),
        ("me he cortado", "self_harm"),
        ("me tomé todas", "overdose"),
        ("planning my exit", "suicidal"),
        ("me empastillé", "overdose"),
        ("me qiero matar", "suicidal"),
        ("sh again", "self_harm"),
        ("hes gurgling", "medical_emergency"),
        ("ideas suicidas bien fuertes hoy y estoy solo", "suicidal"),
        ("ojalá me muriera mientras duermo", "suicidal"),
        ("ya tengo planeado mi suicidio para el domingo", "suicidal"),
        ("estoy en peligro ahora mismo", "danger_now"),
        ("i'm about to self harm", "self_harm"),
        ("if i dont wake up tomorrow thats fine by me", "suicidal"),
        ("my husband is hallucinating from benzo withdrawal", "severe_withdrawal"),
        ("estoy en peligro", "danger_now"),
        ("ojalá me muriera de pena", "suicidal"),
        # the first guard for "el rivotril da …?" stood on any "da" or "causa"
        # and handed these to the score (a review, 2026-12-07 late night)
        ("el rivotril me da ideas suicidas muy fuertes", "suicidal"),
        ("me provoca suicidarme ya no aguanto", "suicidal"),
        ("oe causa me quiero matar", "suicidal"),
        ("me dan convulsiones desde que dejé el clonazepam", "severe_withdrawal"),
    ],
}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        pytest.param(text, category, id=f"{why}: {text}")
        for why, cases in READ_BY_A_RULE.items()
        for text, category in cases
    ],
)
def test_a_crisis_is_read_by_a_rule_in_its_category(
    content: Content, text: str, category: str
) -> None:
    assert_read_by_a_rule(content, text, category)


@pytest.mark.parametrize(
    "text",
    [
        "No, I'm not going to kill myself",
        "no, no me voy a matar",
        "i promise im not going to hurt myself, dont worry",
        "Im not gonna hurt myself. just lonely",
    ],
)
def test_a_negation_in_the_same_sentence_still_guards(content: Content, text: str) -> None:
    assert content.crisis.rules.read_text(text)[1].guard == "before"


@pytest.mark.parametrize(
    "text",
    [
        # An idiom ("me va a matar el trabajo") cut these threats until it stopped at
        # breaks (2026-12-07 night): a fresh-eyes review's finds.
        "mi esposo dice que me va a matar. el trabajo lo tiene loco",
        "dice que nos va a matar, el hambre lo tiene loco",
    ],
)
def test_an_idiom_never_runs_across_a_break(content: Content, text: str) -> None:
    words, ruled = content.crisis.rules.read_text(text)
    assert IDIOM not in words
    assert ruled.match is not None
    assert ruled.match.category == "danger_now"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Each was cut as an idiom before both stages until 2026-12-07, and read by nothing.
        ("he's gonna kill me when he gets home", "danger_now"),
        ("he said he would kill me if i leave him", "danger_now"),
        ("my boyfriend said he will kill me if i tell anyone", "danger_now"),
        ("mi esposo me va a matar", "danger_now"),
        ("me va a matar cuando llegue, ya viene en camino", "danger_now"),
        ("hes gonna kill me lol im scared, he is outside", "danger_now"),
        ("he said hell kill me now that i told the cops", "danger_now"),
        ("texting from my phone i want to die", "suicidal"),
        ("im going to end it with my dads gun tonight", "suicidal"),
        ("te escribo del cel, quiero estar muerta", "suicidal"),
        # ...and, from a second review, what the narrower idioms and rules missed
        ("writing this from my phone, going to die tonight", "suicidal"),
        ("i saved all my pills. going to end it with them tonight", "suicidal"),
        ("voy a cortarme. la señal está mala", "self_harm"),
        ("he's trying to kill me", "danger_now"),
        ("he'll literally kill me if he finds out", "danger_now"),
        ("me gritó: te voy a matar", "danger_now"),
        ("quiero colgarme", "suicidal"),
    ],
)
def test_a_crisis_is_never_cut_as_an_idiom(content: Content, text: str, category: str) -> None:
    rules = content.crisis.rules
    assert IDIOM not in rules.read_text(text)[0]
    assert_read_by_a_rule(content, text, category)


@pytest.mark.parametrize(
    "text",
    [
        # Read by no rule until 2026-12-07 night: a threat to someone else.
        "he said he'll kill my mom",
        "my dad is going to kill my mom, he's hitting her",
        "hes trying to kill my sister",
        "my boyfriend threatened to kill my kids",
        "mi papá va a matar a mi mamá",
        "amenazó con matar a mis hijos",
        "dice que la va a matar",
        "le gritó que va a matarla",
        "dad's drunk and threatening to kill all of us",
        # ...and from a fresh-eyes review of those rules
        "he threatened to kill the kids",
        "my uncle said hed kill my dad",
        "hes gonna kill my whole family",
        "my dad is strangling my mom",
        "amenazó a mi mamá con matarla",
        "mi papá está matando a mi mamá",
        "dice que si no regresa la va a matar",
        "mi ex amenazó de muerte a mi hermana",
        "mi esposo me va a matar el trabajo lo tiene loco y llego tomado",
        # three words or fewer: read by rules and short words alone, never scored
        "hes killing her",
        "hell kill her",
        "la está ahorcando",
        "quiere matarla",
        "va a matarla",
    ],
)
def test_a_threat_to_someone_else_is_danger_now(content: Content, text: str) -> None:
    assert_read_by_a_rule(content, text, "danger_now")


@pytest.mark.parametrize(
    "text",
    [
        "im gonna kill my brother he ate my fries",  # the speaker's own joke
        "she'll kill her brother when she finds out he read her diary",
        "mi abuela dice que la va a matar el calor este verano",  # the heat
        "mi hermana quiere matar a su novio por llegar tarde otra vez jajaja",
        "mi hijo intenta matar a mi esposo en el juego jaja",
        "im trying to kill my brother in fortnite",
        "trying to kill my daughters lice",
        "mi tía dice que la va a matar a besos jaja",
        "he will kill everyone on the map",
        "la está matando de risa",
    ],
)
def test_a_joke_about_killing_family_is_not_a_crisis_by_rule(content: Content, text: str) -> None:
    assert content.crisis.rules.read_text(text)[1].match is None


@pytest.mark.parametrize(
    "text",
    [
        "what's the easiest way to go off klonopin",
        "my stomach is making gurgling noises",
        "el rivotril da ideas suicidas muy fuertes?",  # a question of a side effect
        "necesito descansar para siempre de este trabajo jaja",
        "is a seizure from withdrawal common?",
        "me corté el pelo",
        "ojalá me muera de risa con esa peli",
        "se me cortó la llamada",
        "estoy cortando las pastillas a la mitad",
        "im jerking awake every night from the withdrawal",
        "if i don't wake up in time, is it ok to skip the morning dose?",
        "if i dont wake up early thats ok i have the day off",
        "i need to sh*t so bad",
        "my tremors from withdrawal are getting better",
        "mi psiquiatra me empastilla demasiado",
        "is cold turkey the quickest way to die?",
    ],
)
def test_a_look_alike_of_a_plain_statement_is_left_to_the_score(
    content: Content, text: str
) -> None:
    assert content.crisis.rules.read_text(text)[1].match is None


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("me estoy cortando", "crisis"),
        ("me estoy cortanto", "crisis"),  # a slip in a word of six letters or more
        ("estoy cortando cebolla", "none"),  # read by "estoy cortando" for an hour, 2026-12-07
        # a slip in "corte" / "corto" made other words of these (a review, 2026-12-07 late night)
        ("me costó mucho", "none"),
        ("ya me contó", "none"),
        ("me porté mal", "none"),
        # a negation just before a short word guards it, as it guards a rule: near
        ("no me corté", "near"),
        ("nunca me corté", "near"),
    ],
)
def test_short_words_read_a_short_text_as_it_is_said(
    content: Content, text: str, outcome: str
) -> None:
    assert content.crisis.read(text).outcome == outcome


def test_no_idiom_hides_a_training_crisis_from_the_rules(content: Content) -> None:
    """An idiom is a phrase that is never a crisis: cutting it must not take
    away a rule's reading of any training crisis."""
    rules = content.crisis.rules
    hidden = [
        example.text
        for example in load_corpus(FOLDER, TRAIN_FILE)
        if example.crisis
        and rules.read(crisis_text(example.text, breaks=True)).match is not None
        and rules.read_text(example.text)[1].match is None
    ]
    assert hidden == []


@pytest.mark.parametrize(
    "text",
    [
        "ya te voy a colgar, gracias por todo",  # hanging up, not hanging
        "se está cortando la llamada, no te escucho",  # the call, not the skin
        "this is goodbye for tonight, my phone is at 2%",
        "la app va a colgarse otra vez",
        "ya voy a colgarte, gracias",
    ],
)
def test_a_phone_lines_own_words_are_not_read_as_a_crisis_by_a_rule(
    content: Content, text: str
) -> None:
    assert content.crisis.read(text).stage is not Stage.RULE


# Training crises a guard hands to the score: self-harm said beside "i don't
# want to die", whose guarded match is the suicidal rule's (2026-12-07: 5).
GUARDED_CRISES = 5


def test_a_guard_hands_almost_no_training_crisis_to_the_score(content: Content) -> None:
    """A guard is written from look-alikes; one that stands beside a training
    crisis no other rule reads ("what will happen?" after a whole bottle) is
    too broad. The score still reads those, but a rule had them for certain."""
    rules = content.crisis.rules
    guarded = []
    for example in load_corpus(FOLDER, TRAIN_FILE):
        if example.crisis:
            _, read = rules.read_text(example.text)
            if read.match is None and read.guarded is not None:
                guarded.append(example.text)
    assert len(guarded) <= GUARDED_CRISES, guarded


def test_a_broken_guard_is_refused_with_its_line(tmp_path: Path) -> None:
    from ivr.crisis.rules_file import read_rules

    source = (PROJECT_ROOT / "flows" / CRISIS_DIR / "rules.yaml").read_text()
    path = tmp_path / "rules.yaml"
    path.write_text(
        source.replace("guards:\n  en:\n", "guards:\n  en:\n    after: [x]\n", 1).replace(
            "      - hace mucho\n", "      - (hace)?\n", 1
        )
    )
    rules, problems = read_rules(path, "crisis/rules.yaml")
    assert rules is None
    messages = [str(p) for p in problems]
    assert any("guards.en: unknown kind 'after'" in m for m in messages)
    assert any("guards.es.anywhere:" in m and "matches any text" in m for m in messages)

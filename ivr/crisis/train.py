"""Fitting the learned stage on flows/crisis/train.yaml (`helpline crisis train`).

scikit-learn fits the TF-IDF weights over `ivr.crisis.features`, a logistic
regression for crisis or not (classes weighted equally) and one for the
category, on the crises alone; the result is written as plain numbers to
flows/crisis/model.json, which the line reads without scikit-learn.

Both thresholds come from the training part alone: every training example
is scored by a model fitted on the other four fifths (5-fold, fixed seed),
and read together with the rules as the line reads it. The crisis threshold
is the highest that still finds RECALL_TARGET of those crises in each
language; the near threshold the highest that finds NEAR_RECALL_TARGET of
them. The held-out part is never read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.crisis.corpus import CATEGORIES, NONE, Example
from ivr.crisis.features import asks, features
from ivr.crisis.model import CrisisModel
from ivr.crisis.rules import SHORT_TEXT_WORDS, CrisisRules
from ivr.crisis.text import crisis_text

RECALL_TARGET = 0.98  # of training crises, rules and score together, out of fold
FOLDS = 5
SEED = 20261206
REGULARISATION = 10.0  # logistic regression's C: chosen by `helpline crisis compare`
# Crisis and near together find this share of training crises: the 988 line
# reaches almost every crisis the score misses, not every text that is worried.
NEAR_RECALL_TARGET = 0.985
LOWEST_NEAR = 0.05  # the near band never reaches below this score
DIGITS = 5  # weights are stored rounded: model.json stays small and diffs readable


@dataclass(frozen=True)
class Fitted:
    model: CrisisModel
    out_of_fold: list[float]  # each training example's score from a model that never saw it


Document = tuple[str, bool, tuple[str, ...]]  # words, asks, the rules' markers


def _documents(examples: Sequence[Example], rules: CrisisRules) -> list[Document]:
    """What the line's reader scores: the words with content's idioms cut, whether
    the text asks, and what the rules saw."""
    documents: list[Document] = []
    for example in examples:
        words = rules.without_idioms(crisis_text(example.text))
        documents.append((words, asks(example.text), rules.read(words).markers))
    return documents


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=lambda document: list(features(*document).elements()),
        sublinear_tf=True,
        min_df=2,
    )


def _regression(regularisation: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=regularisation, max_iter=5000, class_weight="balanced", random_state=SEED
    )


def _fit(documents: list[Document], labels: list[str], regularisation: float) -> Any:
    """The vectorizer and the crisis-or-not regression (enough for a score)."""
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(_vectorizer(), _regression(regularisation))
    pipeline.fit(documents, [label != NONE for label in labels])
    return pipeline


def _crisis_scores(pipeline: Any, documents: list[Document]) -> list[float]:
    crisis = list(pipeline.classes_).index(True)
    return [float(row[crisis]) for row in pipeline.predict_proba(documents)]


def out_of_fold_scores(
    examples: Sequence[Example], rules: CrisisRules, regularisation: float = REGULARISATION
) -> list[float]:
    from sklearn.model_selection import StratifiedKFold

    documents = _documents(examples, rules)
    labels = [e.label for e in examples]
    strata = [f"{e.language}:{e.label}" for e in examples]
    if min(Counter(strata).values()) < FOLDS:  # a small corpus: by label alone
        strata = labels
    splits = max(2, min(FOLDS, *Counter(strata).values()))
    scores = [0.0] * len(examples)
    folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=SEED)
    for train_index, test_index in folds.split(documents, strata):
        pipeline = _fit(
            [documents[i] for i in train_index], [labels[i] for i in train_index], regularisation
        )
        for index, score in zip(
            test_index, _crisis_scores(pipeline, [documents[i] for i in test_index]), strict=True
        ):
            scores[index] = score
    return scores


def choose_thresholds(
    examples: Sequence[Example], scores: Sequence[float], rules: CrisisRules
) -> tuple[float, float]:
    """(crisis, near) from out-of-fold scores: see the module's docstring. Each
    language must reach the recall target on its own: the threshold is the
    lower of the two languages'."""
    crisis = near = 1.0
    for language in sorted({e.language for e in examples}):
        left = sorted(
            score
            for example, score in zip(examples, scores, strict=True)
            if example.language == language and example.crisis and _left_to_score(example, rules)
        )
        crises = sum(1 for e in examples if e.crisis and e.language == language)
        if not left:
            continue
        may_miss = int(crises * (1.0 - RECALL_TARGET))  # crises the score may leave below it
        crisis = min(crisis, left[min(may_miss, len(left) - 1)])
        may_miss_near = int(crises * (1.0 - NEAR_RECALL_TARGET))
        near = min(near, left[min(may_miss_near, len(left) - 1)])
    if crisis >= 1.0:
        return 0.5, 0.5
    near = max(LOWEST_NEAR, near)
    # A hair under the scores they must include: the same text scores the same.
    return round(crisis - 1e-6, 6), round(min(near, crisis) - 1e-6, 6)


def _left_to_score(example: Example, rules: CrisisRules) -> bool:
    """A crisis the line's reader would leave to the learned score: no rule reads
    it, and it is longer than a short text (those are read by rules alone)."""
    words = rules.without_idioms(crisis_text(example.text))
    return len(words.split()) > SHORT_TEXT_WORDS and rules.first(words) is None


def fit_model(
    examples: Sequence[Example],
    rules: CrisisRules,
    trained_on: str,
    regularisation: float = REGULARISATION,
) -> Fitted:
    if {e.label for e in examples} != {NONE, *CATEGORIES}:
        raise ValueError(f"the training examples must hold every label: {NONE}, {CATEGORIES}")
    scores = out_of_fold_scores(examples, rules, regularisation)
    crisis, near = choose_thresholds(examples, scores, rules)
    documents = _documents(examples, rules)
    pipeline = _fit(documents, [e.label for e in examples], regularisation)
    vectorizer, regression = pipeline.steps[0][1], pipeline.steps[1][1]
    sign = 1.0 if list(regression.classes_).index(True) == 1 else -1.0
    crises = [index for index, e in enumerate(examples) if e.crisis]
    categories = _regression(regularisation)
    categories.fit(
        vectorizer.transform([documents[i] for i in crises]), [examples[i].label for i in crises]
    )
    order = [list(categories.classes_).index(c) for c in CATEGORIES]
    weights: dict[str, tuple[float, tuple[float, ...]]] = {}
    for feature, column in sorted(vectorizer.vocabulary_.items()):
        per_output = [sign * float(regression.coef_[0, column])]
        per_output += [float(categories.coef_[row, column]) for row in order]
        weights[feature] = (
            round(float(vectorizer.idf_[column]), DIGITS),
            tuple(round(value, DIGITS) for value in per_output),
        )
    intercepts = [sign * float(regression.intercept_[0])]
    intercepts += [float(categories.intercept_[row]) for row in order]
    model = CrisisModel(
        CATEGORIES,
        tuple(round(b, DIGITS) for b in intercepts),
        weights,
        crisis,
        near,
        trained_on,
    )
    return Fitted(model, list(scores))

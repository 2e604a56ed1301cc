"""The second stage: a linear model over `ivr.crisis.features`, fitted on the
labelled examples in flows/crisis/train.yaml (`helpline crisis train`) and
kept beside them in flows/crisis/model.json.

Reading a text is a TF-IDF weighting (sublinear counts, L2-normalised), then
two logistic regressions over it: one says how likely a crisis is (crisis or
not, the classes weighted equally), the other which crisis it would be (fitted
on the crises alone). Done here in plain Python from the stored weights: a
text takes well under a millisecond, and the same text always gets the same
score. The crisis score the reader compares with the thresholds is this
model's weighed with the sentence encoder's (`ivr.crisis.encoder`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.crisis.corpus import LANGUAGES
from ivr.crisis.features import features

MODEL_FORMAT = 3


class ModelError(ValueError):
    """A model file that cannot be used, and why."""


@dataclass(frozen=True)
class Score:
    crisis: float  # probability that the text is a crisis of any category
    category: str  # the most likely crisis category (even when `crisis` is low)


@dataclass(frozen=True)
class CrisisModel:
    categories: tuple[str, ...]  # the crisis categories the second regression tells apart
    intercepts: tuple[float, ...]  # the crisis regression's, then one per category
    # feature -> (idf, (crisis weight, then one weight per category))
    weights: Mapping[str, tuple[float, tuple[float, ...]]]
    crisis_threshold: float  # a score at or above it is a crisis
    near_threshold: float  # at or above it, below crisis: near (988 mentioned, no alert)
    trained_on: str  # sha256 of the training examples it was fitted on
    # sha256 of the encoder.onnx whose scores the thresholds were chosen with
    # (ivr/crisis/encoder.py): the thresholds hold for the two weighed together, this
    # model weighing NGRAM_SHARE ("" and 1.0: fitted without an encoder).
    encoder: str
    ngram_share: float
    # Each language's own crisis threshold, where its words tell the language: each
    # language reaches the recall target on its own, so one whose crises score
    # higher need not take the other's lower threshold. Never below the shared
    # one above, which a text of no clear language gets (the safer). The near
    # threshold is one for all: the 988 line costs a person nothing.
    language_thresholds: Mapping[str, float] = field(default_factory=dict)

    def thresholds_for(self, language: str | None) -> tuple[float, float]:
        """(crisis, near) for a text whose words are in LANGUAGE (None: not clear)."""
        crisis = self.language_thresholds.get(language or "", self.crisis_threshold)
        return crisis, self.near_threshold

    def describe_thresholds(self) -> str:
        """'crisis 0.158 / near 0.106 (crisis en 0.158, es 0.199)'."""
        own = ", ".join(f"{lang} {t:.3f}" for lang, t in sorted(self.language_thresholds.items()))
        shared = f"crisis {self.crisis_threshold:.3f} / near {self.near_threshold:.3f}"
        return f"{shared} (crisis {own})" if own else shared

    def score(self, words: str, question: bool = False, markers: Sequence[str] = ()) -> Score:
        weighted: list[tuple[float, tuple[float, ...]]] = []
        for feature, count in features(words, question, markers).items():
            known = self.weights.get(feature)
            if known is not None:
                idf, per_output = known
                weighted.append(((1.0 + math.log(count)) * idf, per_output))
        norm = math.sqrt(sum(value * value for value, _ in weighted)) or 1.0
        logits = list(self.intercepts)
        for value, per_output in weighted:
            share = value / norm
            for index, weight in enumerate(per_output):
                logits[index] += share * weight
        crisis = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logits[0]))))
        category_logits = logits[1:]
        best = max(range(len(self.categories)), key=category_logits.__getitem__)
        return Score(crisis, self.categories[best])

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "trained_on": self.trained_on,
            "encoder": self.encoder,
            "ngram_share": self.ngram_share,
            "categories": list(self.categories),
            "thresholds": {
                "crisis": self.crisis_threshold,
                "near": self.near_threshold,
                "by_language": dict(sorted(self.language_thresholds.items())),
            },
            "intercepts": list(self.intercepts),
            "weights": {f: [idf, *per_class] for f, (idf, per_class) in self.weights.items()},
        }


def model_from_json(data: Any) -> CrisisModel:
    try:
        if data["format"] != MODEL_FORMAT:
            raise ModelError(f"format {data['format']!r}; this line reads {MODEL_FORMAT}")
        categories = tuple(str(c) for c in data["categories"])
        if not categories or len(set(categories)) != len(categories):
            raise ModelError("categories must name each crisis category once")
        outputs = len(categories) + 1
        weights: dict[str, tuple[float, tuple[float, ...]]] = {}
        for feature, row in data["weights"].items():
            if len(row) != outputs + 1:
                raise ModelError(f"feature {feature!r} has {len(row)} numbers")
            weights[str(feature)] = (float(row[0]), tuple(float(w) for w in row[1:]))
        intercepts = tuple(float(b) for b in data["intercepts"])
        crisis = float(data["thresholds"]["crisis"])
        near = float(data["thresholds"]["near"])
        by_language = {
            str(language): float(threshold)
            for language, threshold in data["thresholds"].get("by_language", {}).items()
        }
        unknown = sorted(set(by_language) - set(LANGUAGES))
        if unknown:
            raise ModelError(f"thresholds.by_language: no language {unknown[0]!r}")
        trained_on = str(data["trained_on"])
        encoder = str(data["encoder"])
        ngram_share = float(data["ngram_share"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, ModelError):
            raise
        raise ModelError(f"not a crisis model ({type(error).__name__}: {error})") from error
    if len(intercepts) != outputs:
        raise ModelError("one intercept for the crisis regression and one per category")
    if not 0.0 < near <= crisis < 1.0:
        raise ModelError("thresholds: 0 < near <= crisis < 1 is needed")
    for language, own in by_language.items():
        if not crisis <= own < 1.0:
            raise ModelError(
                f"thresholds.by_language.{language}: between the shared crisis threshold and 1"
            )
    if not 0.0 <= ngram_share <= 1.0:
        raise ModelError("ngram_share: between 0 and 1")
    return CrisisModel(
        categories, intercepts, weights, crisis, near, trained_on, encoder, ngram_share, by_language
    )


def load_model(path: Path) -> CrisisModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"cannot read: {error}") from error
    return model_from_json(data)

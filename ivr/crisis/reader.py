"""One reading of a text or of speech: is it a crisis, of what kind, in which
language, how sure, and why — rule first, then the learned score.

What a reading carries is safe to record and show: categories, the stage, a
score, the content rule that matched. Never the words that were read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from ivr.crisis.encoder import CrisisEncoder, EncoderError, averaged
from ivr.crisis.features import asks
from ivr.crisis.language import guess_language
from ivr.crisis.model import CrisisModel
from ivr.crisis.rules import SHORT_TEXT_WORDS, CrisisRules

log = logging.getLogger(__name__)


class Stage(Enum):
    RULE = "rule"  # a rule of flows/crisis/rules.yaml matched
    SCORE = "score"  # the learned stage's score reached the crisis threshold
    NONE = "none"  # neither


@dataclass(frozen=True)
class CrisisReading:
    crisis: bool
    near: bool  # not a crisis, but close: the answer mentions 988, no counselor is alerted
    category: str | None  # a crisis's category; for a near text, the likeliest one
    language: str | None  # the language the words are in, if they tell
    confidence: float  # 1.0 for a rule; else the learned stage's crisis score
    stage: Stage
    why: str  # the rule's pattern, or the score against its threshold

    @property
    def outcome(self) -> str:
        return "crisis" if self.crisis else "near" if self.near else "none"


NOT_A_CRISIS = CrisisReading(False, False, None, None, 0.0, Stage.NONE, "empty")


@dataclass(frozen=True)
class CrisisReader:
    rules: CrisisRules
    model: CrisisModel
    # The sentence encoder whose score is weighed with the model's; None where
    # content comes without one (the model's thresholds are then its own).
    encoder: CrisisEncoder | None = None

    def read(
        self, text: str, language_hint: str | None = None, *, learned: bool = True
    ) -> CrisisReading:
        """LEARNED False: the rules alone (a text that is nothing but a keyword,
        or words that answer a menu). A short text (SHORT_TEXT_WORDS words or
        fewer) is read by the rules and content's short crisis words, with
        slips of the thumb, never by a score."""
        words, ruled = self.rules.read_text(text)
        if not words:
            return NOT_A_CRISIS
        short = len(words.split()) <= SHORT_TEXT_WORDS
        ruled = self.rules.with_short_words(words, ruled)
        match = ruled.match
        if match is not None:
            language = guess_language(words, match.language)
            return CrisisReading(
                True, False, match.category, language, 1.0, Stage.RULE, f"rule: {match.pattern}"
            )
        told = guess_language(words)  # what the words alone tell: the thresholds' key
        language = told or language_hint
        guarded = ruled.guarded
        if short or not learned:
            # A word or three give a score nothing to stand on ("no" and "again"
            # scored as crises): the rules and the short words alone.
            if guarded is not None:
                return self._guarded_near(guarded.category, language, 0.0, "rules only")
            return CrisisReading(False, False, None, language, 0.0, Stage.NONE, "rules only")
        question = asks(text)
        score = self.model.score(words, question, ruled.markers)
        crisis, parts = score.crisis, ""
        # Its own language's thresholds where the words tell it, the hint aside:
        # else the lower, shared ones (a guess that cannot tell is the safer).
        threshold, near_threshold = self.model.thresholds_for(told)
        if self.encoder is not None:
            try:
                encoded = self.encoder.score(words)
                crisis = averaged(score.crisis, encoded, self.model.ngram_share)
                parts = f" (n-grams {score.crisis:.3f}, encoder {encoded:.3f})"
            except EncoderError as error:
                # `flows check` opened this very file (its digest is checked at
                # load), so this is onnxruntime failing here. The n-grams alone,
                # against the shared thresholds, lower than their own (0.125
                # against 0.266, theirs at the 98 % target, on 2026-12-07): more
                # alarms, not fewer.
                log.error("crisis encoder failed, n-grams alone: %s", error)
                parts = " (n-grams alone: the encoder failed)"
                threshold, near_threshold = self.model.thresholds_for(None)
        if crisis >= threshold:
            why = f"score {crisis:.3f} >= {threshold:.3f}{parts}"
            if guarded is not None:
                why += f" (rule {guarded.pattern}, guard {ruled.guard})"
            return CrisisReading(True, False, score.category, language, crisis, Stage.SCORE, why)
        why = f"score {crisis:.3f} < {threshold:.3f}{parts}"
        if guarded is not None:
            return self._guarded_near(guarded.category, language, crisis, why)
        near = crisis >= near_threshold
        return CrisisReading(
            False, near, score.category if near else None, language, crisis, Stage.NONE, why
        )

    @staticmethod
    def _guarded_near(category: str, language: str | None, score: float, why: str) -> CrisisReading:
        """A rule read the text but a guard stood with it ("i'm not gonna hurt
        myself"), and the score did not make it a crisis: near at the least, so
        the answer carries the 988 line."""
        return CrisisReading(
            False, True, category, language, score, Stage.NONE, f"{why}; a rule read it, guarded"
        )

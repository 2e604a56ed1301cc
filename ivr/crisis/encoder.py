"""The learned stage's second reader: a small multilingual sentence encoder
(multilingual-e5-small, 12 layers), fine-tuned on flows/crisis/train.yaml to
say how likely a text is a crisis. Kept in flows/crisis/encoder.onnx (8-bit
weights) and flows/crisis/encoder.json (its word pieces, and what it was
fitted on); run by onnxruntime on one thread.

Why beside the n-gram model: a linear model over letters and words reads
"i'm not thinking about ending anything" and "thanks for listening tonight"
by the words they share with crises; an encoder reads the sentence. Five folds
over the training part, at the threshold that finds 97 % of the crises: false
alarms 21 % (n-grams alone) against 9 % (the two averaged), docs/crisis.md.

The text it reads is the reader's (`crisis_text`: lower case, no accents or
punctuation, emoji as words), so its word pieces are the model's pieces made
of those letters only — 18 % of the original vocabulary — and the split of a
word into pieces is done here, the same at training and at run time.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENCODER_FORMAT = 1
WORD_START = "\u2581"  # SentencePiece's mark of a piece that begins a word
MAX_TOKENS = 64  # a window of the text, with its start and end marks
STRIDE = 32  # a longer text is read in overlapping windows; the highest counts


class EncoderError(ValueError):
    """An encoder that cannot be used, and why."""


@dataclass(frozen=True)
class Pieces:
    """A unigram word-piece vocabulary: each word is split into the pieces
    whose scores (log probabilities) sum highest."""

    ids: Mapping[str, int]
    scores: Mapping[str, float]
    start: int  # <s>
    end: int  # </s>
    longest: int  # the longest piece, in letters

    def word(self, word: str) -> list[int]:
        marked = WORD_START + word
        size = len(marked)
        best = [-math.inf] * (size + 1)
        came_from = [0] * (size + 1)
        best[0] = 0.0
        for end in range(1, size + 1):
            for begin in range(max(0, end - self.longest), end):
                if best[begin] == -math.inf:
                    continue
                piece = marked[begin:end]
                score = self.scores.get(piece)
                if score is not None and best[begin] + score > best[end]:
                    best[end] = best[begin] + score
                    came_from[end] = begin
        if best[size] == -math.inf:  # a letter no piece holds: the word is dropped
            return []
        pieces: list[int] = []
        end = size
        while end > 0:
            begin = came_from[end]
            pieces.append(self.ids[marked[begin:end]])
            end = begin
        return pieces[::-1]

    def text(self, words: str) -> list[int]:
        """Token ids of WORDS (`crisis_text`), without the start and end marks."""
        return [piece for word in words.split() for piece in self.word(word)]


def windows(tokens: Sequence[int], start: int, end: int) -> list[list[int]]:
    """TOKENS as the encoder reads them: one window, or overlapping windows of
    the same length (the last ends where the text ends) when it is long."""
    room = MAX_TOKENS - 2
    if len(tokens) <= room:
        return [[start, *tokens, end]]
    firsts = [*range(0, len(tokens) - room, STRIDE), len(tokens) - room]
    return [[start, *tokens[first : first + room], end] for first in firsts]


def encoder_text(words: str, question: bool) -> str:
    """What the encoder is given: the reader's words, and whether the text asks."""
    return f"{words} ?" if question else words


def averaged(ngrams: float, encoder: float) -> float:
    """The learned stage's crisis score: the two readers' probabilities averaged
    (each alone, out of fold, made more false alarms than the two together)."""
    return (ngrams + encoder) / 2.0


def example_key(text: str, language: str, label: str) -> str:
    """How encoder.json names a training example it scored out of fold."""
    return hashlib.sha256(f"{language}\n{label}\n{text}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CrisisEncoder:
    pieces: Pieces
    session: Any  # onnxruntime.InferenceSession
    trained_on: str  # sha256 of the train.yaml it was fine-tuned on
    digest: str  # sha256 of encoder.onnx: the n-gram model records which it was paired with
    out_of_fold: Mapping[str, float]  # example_key -> score from a model that never saw it

    def score(self, words: str, question: bool = False) -> float:
        import numpy as np

        tokens = self.pieces.text(encoder_text(words, question))
        batch = np.array(windows(tokens, self.pieces.start, self.pieces.end), dtype=np.int64)
        scores = self.session.run(None, {"ids": batch})[0]
        return float(max(scores.reshape(-1)))


def file_digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def pieces_from_json(data: Any) -> Pieces:
    try:
        listed = [(str(piece), float(score)) for piece, score in data["pieces"]]
        start, end = int(data["start"]), int(data["end"])
    except (KeyError, TypeError, ValueError) as error:
        raise EncoderError(f"pieces: {type(error).__name__}: {error}") from error
    ids = {piece: index for index, (piece, _) in enumerate(listed)}
    if len(ids) != len(listed) or not 0 <= start < len(listed) or not 0 <= end < len(listed):
        raise EncoderError("pieces: each once, and <s> and </s> among them")
    scores = {piece: score for piece, score in listed if piece and not piece.startswith("<")}
    return Pieces(ids, scores, start, end, max(len(piece) for piece in scores))


def load_encoder(folder: Path, onnx_name: str, json_name: str) -> CrisisEncoder:
    """The encoder kept in FOLDER; EncoderError when it cannot be used."""
    import onnxruntime

    try:
        data = json.loads((folder / json_name).read_text(encoding="utf-8"))
        digest = file_digest(folder / onnx_name)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EncoderError(f"cannot read: {error}") from error
    if not isinstance(data, dict) or data.get("format") != ENCODER_FORMAT:
        raise EncoderError(f"not an encoder file of format {ENCODER_FORMAT}")
    if data.get("onnx_sha256") != digest:
        raise EncoderError(f"{onnx_name} is not the file {json_name} was written with")
    try:
        out_of_fold = {str(key): float(score) for key, score in data["out_of_fold"].items()}
        trained_on = str(data["trained_on"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise EncoderError(f"{type(error).__name__}: {error}") from error
    options = onnxruntime.SessionOptions()
    # One thread: the same sums in the same order, so the same text always gets
    # the same score; and a webhook's reading never competes with its neighbours.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    # No memory arena: it keeps the largest input's buffers for good (+7 MB
    # after a long text, measured); loaded from the file, not from bytes held
    # here, which onnxruntime copies (+30 MB). docs/benchmarks.md.
    options.enable_cpu_mem_arena = False
    try:
        session = onnxruntime.InferenceSession(
            str(folder / onnx_name), options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own kinds for a bad file
        raise EncoderError(f"onnxruntime cannot load {onnx_name}: {error}") from error
    return CrisisEncoder(pieces_from_json(data), session, trained_on, digest, out_of_fold)

"""The learned stage's second reader: a small multilingual sentence encoder
(multilingual-e5-small, 12 layers), fine-tuned on flows/crisis/train.yaml to
say how likely a text is a crisis. Kept in flows/crisis/encoder.onnx (8-bit
weights) and flows/crisis/encoder.json (its word pieces, and the score it
gave each training example out of fold); run by onnxruntime on one thread.

Why beside the n-gram model: a linear model over letters and words reads
"i'm not thinking about ending anything" and "thanks for listening tonight"
by the words they share with crises; an encoder reads the sentence. Measured
out of fold on the training part and on the held-out part: docs/crisis.md.

The text it reads is the reader's (`crisis_text`: lower case, no accents or
punctuation, emoji as words), so its word pieces are the model's pieces made
of those letters only (22,369 of 250,002 are kept, tools/encoder/base.py),
and the split of a word into pieces is done here, the same at training and
at run time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

ENCODER_FORMAT = 2  # 2: with `agreement`
WORD_START = "\u2581"  # SentencePiece's mark of a piece that begins a word
MAX_TOKENS = 64  # a window of the text, with its start and end marks
STRIDE = 32  # a longer text is read in overlapping windows; the highest counts
# At most this many windows are read, spread over the whole text (the first
# and the last always): a full window takes about 10 ms here, and a text of
# 1,376 letters (328 pieces) 45 ms in four (91 ms for ten, read whole). Rules
# and n-grams read every word.
MAX_WINDOWS = 4


class EncoderError(ValueError):
    """An encoder that cannot be used, and why."""


class EncoderDisagrees(EncoderError):
    """This machine scores the kept texts otherwise: it will not change while
    the process lives, so opening is not tried again."""


@dataclass(frozen=True)
class Pieces:
    """A unigram word-piece vocabulary: each word is split into the pieces
    whose scores (log probabilities) sum highest."""

    ids: Mapping[str, int]
    scores: Mapping[str, float]
    start: int  # <s>
    end: int  # </s>
    longest: int  # the longest piece, in letters

    def word_ids(self, word: str) -> list[int]:
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

    def text_ids(self, words: str) -> list[int]:
        """Token ids of WORDS (`crisis_text`), without the start and end marks."""
        return [piece for word in words.split() for piece in self.word_ids(word)]


def windows(tokens: Sequence[int], start: int, end: int) -> list[list[int]]:
    """TOKENS as the encoder reads them: one window, or overlapping windows of
    the same length (the first at the text's start, the last at its end) when
    it is long; at most MAX_WINDOWS, spread evenly over a very long text."""
    room = MAX_TOKENS - 2
    if len(tokens) <= room:
        return [[start, *tokens, end]]
    last = len(tokens) - room
    firsts = [*range(0, last, STRIDE), last]
    if len(firsts) > MAX_WINDOWS:
        firsts = [round(i * last / (MAX_WINDOWS - 1)) for i in range(MAX_WINDOWS)]
    return [[start, *tokens[first : first + room], end] for first in firsts]


def averaged(ngrams: float, encoder: float, ngram_share: float) -> float:
    """The learned stage's crisis score: the two readers' probabilities, the
    n-grams weighing NGRAM_SHARE (chosen out of fold, `ivr.crisis.train`)."""
    return ngram_share * ngrams + (1.0 - ngram_share) * encoder


def example_key(text: str, language: str) -> str:
    """How encoder.json names a training example it scored out of fold: by its
    words, not its label, so a label corrected since keeps its unseen score."""
    return hashlib.sha256(f"{language}\n{text}".encode()).hexdigest()[:16]


class Session(Protocol):
    """What the encoder needs of onnxruntime.InferenceSession."""

    def run(self, output_names: None, feeds: dict[str, Any]) -> list[Any]: ...


@dataclass(frozen=True)
class CrisisEncoder:
    pieces: Pieces
    path: Path  # encoder.onnx
    digest: str  # sha256 of encoder.onnx: the n-gram model records which it was paired with
    out_of_fold: Mapping[str, float]  # example_key -> score from a model that never saw it
    # (words, score) as the machine that fine-tuned it read them: a machine that
    # reads them otherwise is not given the thresholds chosen from those scores.
    agreement: Sequence[tuple[str, float]] = ()
    # None: onnxruntime's session is opened on first use, in each process. The
    # web server loads content before it forks its workers, and a session made
    # before a fork crashed the worker when it exited ("terminate called after
    # throwing an instance of 'std::system_error'", tests/test_logs.py).
    session: Session | None = None
    _opened: dict[int, Session] = field(default_factory=dict, compare=False, repr=False)
    _opening: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    # When opening last failed in this process: not tried again for RETRY_SECONDS,
    # so a broken file costs each text the n-grams' reading, not a queue at the lock.
    _failed: dict[int, float] = field(default_factory=dict, compare=False, repr=False)
    # Why this machine's scores were refused (EncoderDisagrees): never tried
    # again in that process, as each try costs a session and 9 readings.
    _refused: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def score(self, words: str) -> float:
        """How likely WORDS (`crisis_text`, content's idioms cut) are a crisis: the
        highest of its windows' probabilities. EncoderError if it cannot say."""
        try:
            import numpy as np

            session = self.opened()
            score = float(np.max(session.run(None, {"ids": window_batch(self.pieces, words)})[0]))
        except EncoderError:
            raise
        except Exception as error:  # onnxruntime raises its own kinds; numpy, ImportError
            raise EncoderError(f"onnxruntime: {type(error).__name__}") from error
        if not 0.0 <= score <= 1.0:  # NaN too: it would read as no crisis
            raise EncoderError(f"not a probability: {score}")
        return score

    def opened(self) -> Session:
        """This process's session, opened and checked on first use."""
        if self.session is not None:
            return self.session
        process = os.getpid()
        session = self._opened.get(process)
        if session is not None:
            return session
        refused = self._refused.get(process)
        if refused is not None:
            raise EncoderError(f"refused in this process: {refused}")
        with self._opening:
            session = self._opened.get(process)
            if session is None:
                if time.monotonic() < self._failed.get(process, -RETRY_SECONDS) + RETRY_SECONDS:
                    raise EncoderError("could not be opened in this process; tried again soon")
                try:
                    session = open_session(self.path, self.pieces, self.digest, self.agreement)
                except EncoderDisagrees as error:
                    self._refused[process] = str(error)
                    raise
                except EncoderError:
                    self._failed[process] = time.monotonic()
                    raise
                # A parent's session, if this process was forked, is kept, not
                # closed here: closing one made before a fork is what crashed.
                self._opened[process] = session
        return session


RETRY_SECONDS = 60.0


def window_batch(pieces: Pieces, words: str) -> Any:
    """WORDS as the encoder's input: its windows of piece ids, one row each."""
    import numpy as np

    return np.array(windows(pieces.text_ids(words), pieces.start, pieces.end), dtype=np.int64)


def open_session(
    path: Path, pieces: Pieces, digest: str, agreement: Sequence[tuple[str, float]]
) -> Session:
    """onnxruntime's session of the encoder at PATH, checked: the file loaded
    (DIGEST; it may have been replaced since, without a restart), the highest
    piece id in, one probability out, and AGREEMENT's texts scored as where it
    was fine-tuned. EncoderError when it cannot be used."""
    try:
        import numpy as np
        import onnxruntime

        if file_digest(path) != digest:  # new weights with old pieces and thresholds
            raise EncoderError(f"{path.name} changed since the content was loaded")
        options = onnxruntime.SessionOptions()
        # One thread per reading: the same sums in the same order, so the same
        # text always gets the same score, and no thread pool per process.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # No memory arena: it keeps the largest input's buffers for good (+7 MB
        # after a long text); loaded from the file, not from bytes held here,
        # which onnxruntime copies (+30 MB). Measured here, 2026-12-07.
        options.enable_cpu_mem_arena = False
        # On an x86-64 processor without VNNI (AVX2 only: AMD EPYC here), the
        # 8-bit weights' sums saturate in 16 bits: scores moved by up to 0.46
        # (0.018 on average, 400 training texts), and the held-out part read
        # 129/131 crises instead of 130/131. This option sums without
        # saturating there, as VNNI does (onnxruntime #12088); measured here,
        # 2026-12-07, it gives the fine-tuning machine's figures exactly.
        options.add_session_config_entry("session.x64quantprecision", "1")
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        highest = [[pieces.start, len(pieces.ids) - 1, pieces.end]]
        probe = session.run(None, {"ids": np.array(highest, dtype=np.int64)})
        shape, value = probe[0].shape, float(np.max(probe[0]))
        read = [
            (float(np.max(session.run(None, {"ids": window_batch(pieces, words)})[0])), score)
            for words, score in agreement
        ]
    except EncoderError:
        raise
    except Exception as error:  # onnxruntime raises its own kinds for a bad file
        raise EncoderError(f"onnxruntime cannot use {path.name}: {error}") from error
    if shape != (1,) or not 0.0 <= value <= 1.0:
        raise EncoderError(f"{path.name} gave {shape} {value} for one text, not a probability")
    apart = [abs(here - there) for here, there in read]
    if any(not distance <= AGREEMENT for distance in apart):  # NaN too, wherever it is
        raise EncoderDisagrees(
            f"this machine reads {path.name} otherwise than where it was fine-tuned"
            f" ({max(apart):.3f} apart on {len(read)} texts)"
        )
    return cast(Session, session)


# How far this machine's scores may be from the fine-tuning machine's: the
# integer sums should be the same on any processor (with x64quantprecision), so
# only floating-point rounding around them should differ. Saturated sums moved
# the first encoder's scores by up to 0.31 on the texts it kept.
AGREEMENT = 1e-3


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
    if not scores or not all(-math.inf < score <= 0.0 for score in scores.values()):
        raise EncoderError("pieces: word pieces with log-probability scores (finite, <= 0)")
    return Pieces(ids, scores, start, end, max(len(piece) for piece in scores))


def load_encoder(folder: Path, onnx_name: str, json_name: str) -> CrisisEncoder:
    """The encoder kept in FOLDER; EncoderError when its files do not hold one.
    onnxruntime opens it on first use (`CrisisEncoder.opened`); `helpline flows
    check` does so at once (ivr/content/crisis_loader.py)."""

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
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise EncoderError(f"out_of_fold: {type(error).__name__}: {error}") from error
    if not out_of_fold:  # the thresholds would rest on texts it was fine-tuned on
        raise EncoderError("out_of_fold: no example's out-of-fold score")
    try:
        agreement = [(str(words), float(score)) for words, score in data["agreement"]]
    except (KeyError, TypeError, ValueError) as error:
        raise EncoderError(f"agreement: {type(error).__name__}: {error}") from error
    if not agreement:  # nothing would show a machine that reads it otherwise
        raise EncoderError("agreement: no text with the score it was fine-tuned to give")
    return CrisisEncoder(pieces_from_json(data), folder / onnx_name, digest, out_of_fold, agreement)

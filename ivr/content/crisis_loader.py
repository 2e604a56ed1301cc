"""Parse `flows/crisis/`: the rules, the learned stage's weights, and the
labelled examples they were written and fitted from.

What `flows check` insists on, beyond each file's own shape: the model was
fitted on today's train.yaml (else `helpline crisis train`; `unfitted`). A
running line only warns of that. Which training
look-alikes a rule reads as a crisis is for `helpline crisis eval --train` to
show: a rule may knowingly trade one for the explicit crises it finds.
"""

from __future__ import annotations

from pathlib import Path

from ivr.content.signature import Signature, files_signature
from ivr.crisis.corpus import (
    CRISIS_DIR,
    HELDOUT_FILE,
    TRAIN_FILE,
    corpus_digest,
    read_examples,
)
from ivr.crisis.encoder import EncoderError, load_encoder, open_session
from ivr.crisis.model import ModelError, load_model
from ivr.crisis.reader import CrisisReader
from ivr.crisis.rules_file import RULES_FILE, read_rules
from ivr.platform.problems import Problem

MODEL_FILE = "model.json"
ENCODER_FILE = "encoder.onnx"  # the sentence encoder's 8-bit weights
ENCODER_INFO = "encoder.json"  # its word pieces, and what it was fine-tuned on


# (folder, its files' signature) -> what reading it gave. The model is
# 1.7 MB of JSON that takes 0.2 s to read; a process (and a test run, which
# builds many apps) reads the same files again and again.
Read = tuple[CrisisReader | None, list[Problem]]
_read: dict[tuple[Path, Signature], Read] = {}


def corpus_problems(directory: Path) -> list[Problem]:
    """What `flows check` (and CI) refuse in the labelled examples, and a model
    fitted on another train.yaml. A running line reads neither (they are for
    fitting and measuring, and reading 4,000 examples would cost it a second),
    so an example added without `make train` never takes the line down."""
    folder = directory / CRISIS_DIR
    problems: list[Problem] = []
    for name in (TRAIN_FILE, HELDOUT_FILE):
        if (folder / name).is_file():
            problems += read_examples(folder / name, f"{CRISIS_DIR}/{name}")[1]
    return problems + unfitted(directory) + encoder_problems(directory)


def encoder_problems(directory: Path) -> list[Problem]:
    """onnxruntime cannot open the encoder, it does not answer with one
    probability for the highest piece id, or this machine scores the texts in
    `agreement` otherwise than the machine that fine-tuned it. Asked by `flows check` (and CI) and
    the admin content page: opened once per process and file (the session
    and its weights, +92 MB resident with VNNI, +115 MB on an AVX2-only processor,
    then let go); a running line opens its own on first use,
    in each process after the web server has forked (ivr/crisis/encoder.py)."""
    folder = directory / CRISIS_DIR
    if not has_encoder(folder):
        return []
    try:
        encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO)
    except EncoderError:
        return []  # read_crisis reports it
    pieces = encoder.pieces
    # What the probe depends on: the file, and the ids and texts it is asked to read.
    agreement = tuple(encoder.agreement)
    key = (encoder.digest, len(pieces.ids), pieces.start, pieces.end, agreement)
    if key not in _opened_once:
        try:
            open_session(encoder.path, pieces, encoder.digest, agreement)
            _opened_once[key] = []
        except EncoderError as error:
            _opened_once[key] = [Problem(f"{CRISIS_DIR}/{ENCODER_FILE}", 1, str(error))]
    return list(_opened_once[key])


# (encoder.onnx's digest, pieces, <s>, </s>, agreement) -> what opening it gave
# (encoder_problems)
_opened_once: dict[tuple[str, int, int, int, tuple[tuple[str, float], ...]], list[Problem]] = {}


def unfitted(directory: Path) -> list[Problem]:
    """The model was fitted on another train.yaml (see `corpus_problems`). One
    whose thresholds were chosen beside another encoder.onnx is refused by
    read_crisis itself. An encoder fine-tuned on an older train.yaml is not a
    problem: `helpline crisis train` scores the examples it never saw as they
    come (docs/crisis.md)."""
    folder = directory / CRISIS_DIR
    try:
        model = load_model(folder / MODEL_FILE)
        fitted = model.trained_on == corpus_digest(folder / TRAIN_FILE)
    except (ModelError, OSError):
        return []  # read_crisis reports an unreadable file
    if fitted:
        return []
    message = f"fitted on another {CRISIS_DIR}/{TRAIN_FILE}: run `helpline crisis train`"
    return [Problem(f"{CRISIS_DIR}/{MODEL_FILE}", 1, message)]


def has_encoder(folder: Path) -> bool:
    """Content may come without a sentence encoder (the n-grams then read alone,
    with thresholds chosen for them): both its files, or neither."""
    return (folder / ENCODER_FILE).is_file() or (folder / ENCODER_INFO).is_file()


def forget() -> None:
    """Read the files again next time (a measurement of what reading costs)."""
    _read.clear()


def read_crisis(directory: Path) -> tuple[CrisisReader | None, list[Problem]]:
    """The crisis reader of the content in DIRECTORY, and every problem found."""
    folder = directory / CRISIS_DIR
    # all the reader is built from: train.yaml too, which it refuses to be without
    names = (RULES_FILE, MODEL_FILE, ENCODER_FILE, ENCODER_INFO, TRAIN_FILE)
    stats = files_signature(folder / name for name in names)
    key = (folder.resolve(), stats)
    if key not in _read:
        if len(_read) > 8:
            _read.clear()
        _read[key] = _read_crisis(directory)
    reader, problems = _read[key]
    return reader, list(problems)


def _read_crisis(directory: Path) -> tuple[CrisisReader | None, list[Problem]]:
    folder = directory / CRISIS_DIR
    problems: list[Problem] = []

    def named(name: str) -> str:
        return f"{CRISIS_DIR}/{name}"

    encoder_files = (ENCODER_FILE, ENCODER_INFO) if has_encoder(folder) else ()
    for name in (RULES_FILE, MODEL_FILE, *encoder_files, TRAIN_FILE):
        if not (folder / name).is_file():
            problems.append(Problem(named(name), 1, f"missing content file {named(name)}"))
    if problems:
        return None, problems

    rules, rule_problems = read_rules(folder / RULES_FILE, named(RULES_FILE))
    problems += rule_problems
    try:
        model = load_model(folder / MODEL_FILE)
    except ModelError as error:
        problems.append(Problem(named(MODEL_FILE), 1, str(error)))
        return None, problems
    encoder = None
    if encoder_files:
        try:
            encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO)
        except EncoderError as error:
            problems.append(Problem(named(ENCODER_INFO), 1, str(error)))
            return None, problems
        if model.encoder != encoder.digest:  # its thresholds are for another's scores
            message = f"fitted beside another {named(ENCODER_FILE)}: run `helpline crisis train`"
            problems.append(Problem(named(MODEL_FILE), 1, message))
            return None, problems
    elif model.encoder:  # thresholds for a score it cannot compute
        problems.append(
            Problem(named(ENCODER_FILE), 1, f"missing content file {named(ENCODER_FILE)}")
        )
        return None, problems
    if problems or rules is None:
        return None, problems
    return CrisisReader(rules, model, encoder), []

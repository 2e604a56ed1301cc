"""The crisis reader's sentence encoder (ivr/crisis/encoder.py): how it splits
words, how it reads a long text, what it refuses, and that the n-gram model's
thresholds were chosen beside this very encoder."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy
import pytest

from ivr.content.check import check_directory
from ivr.content.crisis_loader import ENCODER_FILE, ENCODER_INFO, forget, read_crisis
from ivr.content.model import Content
from ivr.crisis import encoder as encoder_module
from ivr.crisis.corpus import CRISIS_DIR, TRAIN_FILE, load_corpus
from ivr.crisis.encoder import (
    AGREEMENT,
    MAX_TOKENS,
    MAX_WINDOWS,
    EncoderError,
    averaged,
    example_key,
    load_encoder,
    pieces_from_json,
    windows,
)
from ivr.crisis.language import guess_language
from ivr.crisis.reader import Stage
from ivr.crisis.text import crisis_text
from ivr.crisis.train import encoder_scores
from ivr.platform.config import PROJECT_ROOT

FOLDER = PROJECT_ROOT / "flows" / CRISIS_DIR
START, END = 0, 1


def test_a_word_is_split_into_the_pieces_that_score_highest() -> None:
    pieces = pieces_from_json(
        {
            "pieces": [
                ["<s>", 0.0],
                ["</s>", 0.0],
                ["\u2581", -5.0],
                ["\u2581ma", -3.0],
                ["\u2581mat", -4.5],
                ["tar", -3.0],
                ["ar", -2.0],
                ["me", -2.0],
                ["t", -6.0],
                ["m", -6.0],
                ["e", -6.0],
                ["a", -6.0],
                ["r", -6.0],
            ],
            "start": 0,
            "end": 1,
        }
    )
    # "▁ma" + "tar" + "me" (-8) beats "▁mat" + "ar" + "me" (-8.5) and any
    # split into single letters.
    assert pieces.text_ids("matarme") == [3, 5, 7]
    assert pieces.text_ids("ma me") == [3, 2, 7]  # "me" starts a word: "▁" then "me"
    assert pieces.text_ids("x") == []  # a letter no piece holds
    assert pieces.ids["\u2581mat"] == 4


def test_a_very_long_text_is_read_in_at_most_so_many_windows_spread_over_it() -> None:
    tokens = list(range(2000))
    read = windows(tokens, START, END)
    assert len(read) == MAX_WINDOWS
    assert read[0][1:-1] == tokens[: MAX_TOKENS - 2]
    assert read[-1][1:-1] == tokens[-(MAX_TOKENS - 2) :]
    firsts = [window[1] for window in read]
    assert firsts == sorted(set(firsts))  # each window once, in order


def test_a_long_text_is_read_in_overlapping_windows_of_the_same_length() -> None:
    room = MAX_TOKENS - 2
    assert windows([7] * 10, START, END) == [[START, *[7] * 10, END]]
    tokens = list(range(10, 10 + 150))
    read = windows(tokens, START, END)
    assert {len(window) for window in read} == {MAX_TOKENS}
    assert read[0][1:-1] == tokens[:room]
    assert read[-1][1:-1] == tokens[-room:]  # the text's end is always read
    covered = {token for window in read for token in window[1:-1]}
    assert covered == set(tokens)


def test_a_crisis_at_the_end_of_a_long_text_is_read_as_high_as_alone(content: Content) -> None:
    encoder = content.crisis.encoder
    assert encoder is not None
    crisis = crisis_text("i took all my pills an hour ago and i feel like i am going to die")
    chatter = crisis_text("so anyway about the weekend, the weather was nice and we went out. " * 8)
    alone = encoder.score(crisis)
    at_the_end = encoder.score(f"{chatter} {crisis}")
    assert len(encoder.pieces.text_ids(chatter)) > MAX_TOKENS  # it needs windows
    assert at_the_end >= alone - 0.05
    assert encoder.score(chatter) < 0.5 <= alone


def test_the_same_text_gets_the_same_score(content: Content) -> None:
    encoder = content.crisis.encoder
    assert encoder is not None
    words = crisis_text("me voy a tomar todas las pastillas esta noche")
    first = encoder.score(words)
    assert all(encoder.score(words) == first for _ in range(20))
    assert 0.0 <= first <= 1.0


def test_the_thresholds_were_chosen_beside_this_encoder(content: Content) -> None:
    encoder = content.crisis.encoder
    assert encoder is not None
    assert content.crisis.model.encoder == encoder.digest


def test_the_thresholds_rest_on_out_of_fold_scores_of_most_training_examples(
    content: Content,
) -> None:
    """An example added or edited since the encoder was fine-tuned has none
    (scored as it is); most must have one, or `make train-encoder` is due."""
    encoder = content.crisis.encoder
    assert encoder is not None
    examples = load_corpus(FOLDER, TRAIN_FILE)
    keys = {example_key(e.text, e.language) for e in examples}
    assert len(keys & set(encoder.out_of_fold)) >= 0.9 * len(examples)


def test_the_learned_score_weighs_the_two_by_the_share_chosen() -> None:
    assert averaged(0.2, 0.6, 0.5) == pytest.approx(0.4)
    assert averaged(0.2, 0.6, 0.25) == pytest.approx(0.5)
    assert averaged(0.2, 0.6, 0.0) == pytest.approx(0.6)


@dataclass(frozen=True)
class SaysAlways:
    """An onnxruntime session that gives every window the same probability."""

    probability: float

    def run(self, output_names: None, feeds: dict[str, Any]) -> list[Any]:
        return [numpy.full(len(feeds["ids"]), self.probability, dtype=numpy.float32)]


def test_the_reader_averages_the_two_scores_against_its_thresholds(content: Content) -> None:
    reader = content.crisis
    assert reader.encoder is not None
    share = reader.model.ngram_share
    text = "what should we cook this weekend, i keep thinking about tacos"
    ngrams = reader.model.score(crisis_text(text)).crisis
    threshold, _ = reader.model.thresholds_for(guess_language(crisis_text(text)))
    sure_score = averaged(ngrams, 1.0, share)
    assert averaged(ngrams, 0.0, share) < threshold <= sure_score  # the encoder decides
    sure = replace(reader, encoder=replace(reader.encoder, session=SaysAlways(1.0)))
    unsure = replace(reader, encoder=replace(reader.encoder, session=SaysAlways(0.0)))
    read = sure.read(text)
    assert read.confidence == pytest.approx(sure_score)
    assert read.crisis
    assert read.stage is Stage.SCORE
    assert "encoder 1.000" in read.why
    assert not unsure.read(text).crisis
    assert unsure.read(text).confidence == pytest.approx(share * ngrams)


@pytest.mark.parametrize(
    ("pieces", "why"),
    [
        ([["<s>", 0.0], ["</s>", 0.0]], "word pieces"),  # nothing to split a word into
        ([["<s>", 0.0], ["</s>", 0.0], ["a", float("nan")]], "finite"),
        ([["<s>", 0.0], ["</s>", 0.0], ["a", 1.5]], "<= 0"),
        ([["<s>", 0.0], ["<s>", 0.0], ["a", -1.0]], "each once"),
    ],
)
def test_a_broken_piece_list_is_refused(pieces: list[list[object]], why: str) -> None:
    with pytest.raises(EncoderError, match=why):
        pieces_from_json({"pieces": pieces, "start": 0, "end": 1})


@pytest.fixture
def flows_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the line's flows to break; its reader is not kept afterwards
    (each holds an onnxruntime session of about 60 MB)."""
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    yield flows
    forget()


def test_more_pieces_than_the_encoder_has_words_for_are_refused_by_flows_check(
    flows_copy: Path,
) -> None:
    folder = flows_copy / CRISIS_DIR
    info = json.loads((folder / ENCODER_INFO).read_text(encoding="utf-8"))
    info["pieces"].append(["\u2581zzzzzzzz", -20.0])
    (folder / ENCODER_INFO).write_text(json.dumps(info), encoding="utf-8")
    encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO)  # opened on first use
    with pytest.raises(EncoderError, match="cannot use"):
        encoder.opened()
    assert any(
        p.file == f"{CRISIS_DIR}/{ENCODER_FILE}" and "cannot use" in p.message
        for p in check_directory(flows_copy)
    )


def test_this_machine_reads_the_encoder_as_where_it_was_fine_tuned(content: Content) -> None:
    """The same text, the same score, on any processor: without onnxruntime's
    x64quantprecision, an AVX2 processor without VNNI read the first encoder's
    kept texts up to 0.31 away, one held-out crisis and one look-alike otherwise."""
    encoder = content.crisis.encoder
    assert encoder is not None
    assert len(encoder.agreement) >= 8
    for words, score in encoder.agreement:
        assert encoder.score(words) == pytest.approx(score, abs=AGREEMENT)


def _never_opened(*_: Any) -> Any:
    raise AssertionError("a refused encoder was opened again")


@pytest.mark.parametrize(("index", "change"), [(0, 0.01), (-1, 0.01), (3, math.nan)])
def test_a_machine_that_reads_the_encoder_otherwise_is_refused(
    flows_copy: Path, index: int, change: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its thresholds were chosen from the fine-tuning machine's scores: flows
    check says so, and the line reads with the n-grams (more alarms, not fewer)."""
    folder = flows_copy / CRISIS_DIR
    info = json.loads((folder / ENCODER_INFO).read_text(encoding="utf-8"))
    words, score = info["agreement"][index]
    info["agreement"][index] = [words, score + change]
    (folder / ENCODER_INFO).write_text(json.dumps(info), encoding="utf-8")
    encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO)
    with pytest.raises(EncoderError, match="otherwise than where it was fine-tuned"):
        encoder.opened()
    # Never tried again in this process (not after a minute either: no clock asked).
    with monkeypatch.context() as patched:
        patched.setattr(encoder_module, "open_session", _never_opened)
        with pytest.raises(EncoderError, match=r"refused in this process: .*otherwise than"):
            encoder.opened()
    assert any(
        p.file == f"{CRISIS_DIR}/{ENCODER_FILE}" and "otherwise than" in p.message
        for p in check_directory(flows_copy)
    )
    reader, problems = read_crisis(flows_copy)
    assert reader is not None
    assert not problems
    read = reader.read("nobody would even notice if i was gone")
    assert read.crisis
    assert "the encoder failed" in read.why


@dataclass(frozen=True)
class Fails:
    """An onnxruntime session that fails as it runs."""

    def run(self, output_names: None, feeds: dict[str, Any]) -> list[Any]:
        raise RuntimeError("onnxruntime failed")


def test_a_spanish_text_is_held_to_its_own_languages_threshold(content: Content) -> None:
    """Between the shared crisis threshold and Spanish's own: not a crisis in
    Spanish (near: the 988 line), a crisis where the language is unclear."""
    reader = content.crisis
    assert reader.encoder is not None
    model = reader.model
    shared, _ = model.thresholds_for(None)
    spanish, _ = model.thresholds_for("es")
    assert shared < spanish
    text = "tengo miedo de lo que pueda pasar esta noche"
    words, ruled = reader.rules.read_text(text)
    assert ruled.match is None
    assert ruled.guarded is None
    assert guess_language(words) == "es"
    ngrams = model.score(words).crisis
    share = model.ngram_share
    between = (shared + spanish) / 2
    says = (between - share * ngrams) / (1.0 - share)  # the encoder's score that puts it there
    assert 0.0 <= says <= 1.0
    held = replace(reader, encoder=replace(reader.encoder, session=SaysAlways(says)))
    read = held.read(text)
    assert shared < read.confidence < spanish
    assert not read.crisis
    assert read.near
    unclear = replace(held, model=replace(model, language_thresholds={}))
    assert unclear.read(text).crisis


def test_an_encoder_failing_as_it_runs_leaves_the_ngrams_to_read(content: Content) -> None:
    """More alarms, not fewer: the n-grams alone against thresholds lower than
    their own."""
    reader = content.crisis
    assert reader.encoder is not None
    failing = replace(reader, encoder=replace(reader.encoder, session=Fails()))
    text = "nobody would even notice if i was gone"
    read = failing.read(text)
    assert read.confidence == reader.model.score(crisis_text(text)).crisis
    assert read.crisis
    assert "the encoder failed" in read.why


def test_each_process_opens_its_own_session(content: Content) -> None:
    encoder = content.crisis.encoder
    assert encoder is not None
    first = encoder.opened()
    assert encoder.opened() is first
    encoder._opened[-1] = encoder._opened.pop(os.getpid())  # as if forked from another
    assert encoder.opened() is not first
    assert set(encoder._opened) == {-1, os.getpid()}  # a parent's is kept, not closed


def test_an_encoder_that_is_not_the_one_described_is_refused(flows_copy: Path) -> None:
    flows = flows_copy
    folder = flows / CRISIS_DIR
    weights = (folder / ENCODER_FILE).read_bytes()
    (folder / ENCODER_FILE).write_bytes(weights[:-1] + bytes([weights[-1] ^ 1]))
    with pytest.raises(EncoderError, match="not the file"):
        load_encoder(folder, ENCODER_FILE, ENCODER_INFO)
    reader, problems = read_crisis(flows)
    assert reader is None
    assert any(p.file == f"{CRISIS_DIR}/{ENCODER_INFO}" for p in problems)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda info: info.update(format=99), "format"),
        (lambda info: info.pop("out_of_fold"), "out_of_fold"),
        (lambda info: info.update(out_of_fold={}), "no example"),
        (lambda info: info.update(pieces=[["a", "not a number"]]), "pieces"),
        (lambda info: info.update(start=10**9), "pieces"),
        (lambda info: info.pop("agreement"), "agreement"),
        (lambda info: info.update(agreement=[]), "agreement"),
        (lambda info: info.update(agreement=[["hola", "high"]]), "agreement"),
    ],
)
def test_a_broken_encoder_description_is_refused_with_why(
    flows_copy: Path, change: Callable[[dict[str, Any]], object], why: str
) -> None:
    folder = flows_copy / CRISIS_DIR
    info = json.loads((folder / ENCODER_INFO).read_text(encoding="utf-8"))
    change(info)
    (folder / ENCODER_INFO).write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(EncoderError, match=why):
        load_encoder(folder, ENCODER_FILE, ENCODER_INFO)


def test_a_model_fitted_beside_another_encoder_is_refused(flows_copy: Path) -> None:
    """By flows check, and by the line: its thresholds are for another's scores."""
    flows = flows_copy
    model_file = flows / CRISIS_DIR / "model.json"
    model = json.loads(model_file.read_text(encoding="utf-8"))
    model["encoder"] = "0" * 64
    model_file.write_text(json.dumps(model), encoding="utf-8")
    problems = check_directory(flows)
    assert any("fitted beside another" in str(p) for p in problems)
    reader, problems = read_crisis(flows)
    assert reader is None
    assert any("fitted beside another" in str(p) for p in problems)


def test_an_encoder_replaced_after_loading_is_not_opened(flows_copy: Path) -> None:
    """New weights with the pieces and thresholds of the old: refused, and not
    tried again on every text."""
    folder = flows_copy / CRISIS_DIR
    encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO)
    weights = (folder / ENCODER_FILE).read_bytes()
    (folder / ENCODER_FILE).write_bytes(weights + b"\0")
    with pytest.raises(EncoderError, match="changed since"):
        encoder.opened()
    (folder / ENCODER_FILE).write_bytes(weights)  # put back: still not tried at once
    with pytest.raises(EncoderError, match="tried again soon"):
        encoder.score("hola")


def test_thresholds_rest_on_scores_of_texts_the_encoder_never_saw(content: Content) -> None:
    """An example kept in encoder.json counts with its out-of-fold score; one
    added since the encoder was fine-tuned is scored by the encoder as it is."""
    encoder = content.crisis.encoder
    assert encoder is not None
    kept, added = load_corpus(FOLDER, TRAIN_FILE)[:2]
    stored = replace(encoder, out_of_fold={example_key(kept.text, kept.language): 0.9})
    scores, scored_live = encoder_scores([kept, added], stored, content.crisis.rules)
    words = content.crisis.rules.read_text(added.text)[0]
    assert scored_live == 1
    assert scores == [0.9, encoder.score(words)]


def test_content_without_an_encoder_reads_with_the_ngrams_alone(tmp_path: Path) -> None:
    """tests/flows_minimal has no encoder: its model's thresholds are for the
    n-grams alone. A model fitted beside an encoder needs it."""
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "tests" / "flows_minimal", flows)
    reader, problems = read_crisis(flows)
    assert problems == []
    assert reader is not None
    assert reader.encoder is None
    assert reader.model.ngram_share == 1.0
    model_file = flows / CRISIS_DIR / "model.json"
    model = json.loads(model_file.read_text(encoding="utf-8"))
    model["encoder"] = "0" * 64
    model_file.write_text(json.dumps(model), encoding="utf-8")
    reader, problems = read_crisis(flows)
    assert reader is None
    assert [str(p) for p in problems] == [
        f"{CRISIS_DIR}/{ENCODER_FILE}:1: missing content file {CRISIS_DIR}/{ENCODER_FILE}"
    ]

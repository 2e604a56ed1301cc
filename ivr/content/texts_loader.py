"""Parse `flows/texts.yaml`: every text the line sends, in every language."""

from __future__ import annotations

from ivr.content.model import Prompt
from ivr.content.reader import Reader
from ivr.content.yamlsrc import SourceList, SourceMap

TEXTS_FILE = "texts.yaml"


def read_texts(reader: Reader, data: SourceMap) -> dict[str, tuple[Prompt, ...]]:
    """Each text is one message, or a list of messages sent in order."""
    reader.fields(data, TEXTS_FILE, {"texts"}, set())
    texts: dict[str, tuple[Prompt, ...]] = {}
    raw = reader.mapping(data.get("texts"), data.at("texts"), "texts")
    if raw is None:
        return texts
    for text_id, value in raw.items():
        what = f"text '{text_id}'"
        items = value if isinstance(value, SourceList) else None
        if items is None:
            holder = SourceMap({"part": value})
            holder.where, holder.key_where = raw.at(text_id), {"part": raw.at(text_id)}
            parts = [reader.prompt(holder, "part", what)]
        else:
            parts = []
            for index, (item, where) in enumerate(zip(items, items.item_where, strict=True), 1):
                holder = SourceMap({f"part {index}": item})
                holder.where, holder.key_where = where, {f"part {index}": where}
                parts.append(reader.prompt(holder, f"part {index}", what))
            if not parts:
                reader.problem(raw.at(text_id), f"{what}: has no messages")
        if parts and all(part is not None for part in parts):
            texts[str(text_id)] = tuple(part for part in parts if part is not None)
    return texts

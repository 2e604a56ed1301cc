"""The phone menu as a Mermaid flowchart, for the README and for content authors."""

from __future__ import annotations

import re

from ivr.content.check import successors
from ivr.content.model import (
    BackupNode,
    Content,
    CounselorNode,
    HangupNode,
    LanguageNode,
    MenuNode,
    Node,
    TextMeNode,
    VoicemailNode,
)

_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def _id(node_id: str) -> str:
    return "n_" + _SAFE_ID.sub("_", node_id)


def _label(node: Node) -> str:
    kind = {
        MenuNode: "menu",
        CounselorNode: "counselor",
        BackupNode: "backup line",
        VoicemailNode: "voicemail",
        HangupNode: "hang up",
        LanguageNode: "language",
        TextMeNode: "text me",
    }.get(type(node), "say")
    detail = ""
    if isinstance(node, TextMeNode):
        detail = f": {node.text}"
    elif isinstance(node, LanguageNode):
        detail = f": {node.language}"
    return f"{node.id}<br/><i>{kind}{detail}</i>"


def _shape(node: Node) -> tuple[str, str]:
    if isinstance(node, MenuNode):
        return "{{", "}}"
    if isinstance(node, CounselorNode | BackupNode | VoicemailNode):
        return "([", "])"
    if isinstance(node, HangupNode):
        return "((", "))"
    return "[", "]"


def mermaid(content: Content) -> str:
    language = content.default_language
    nav = content.navigation
    lines = ["flowchart TD", f'  call(["incoming call"]) --> {_id(content.voice.start)}']
    for node in content.voice.nodes.values():
        opening, closing = _shape(node)
        lines.append(f'  {_id(node.id)}{opening}"{_label(node)}"{closing}')
    for node in content.voice.nodes.values():
        if isinstance(node, MenuNode):
            for choice in node.choices:
                shown = language if choice.offered_in(language) else choice.languages[0]
                said = choice.words.get(shown, ())[:1]
                label = " / ".join([*choice.keys, *(f"'{w}'" for w in said)])
                if choice.languages:
                    label += f" ({', '.join(choice.languages)})"
                lines.append(f'  {_id(node.id)} -->|"{label}"| {_id(choice.next)}')
            fail = node.on_fail or nav.on_fail
            lines.append(
                f'  {_id(node.id)} -.->|"no answer x{node.tries or nav.tries}"| {_id(fail)}'
            )
        else:
            for target, _ in successors(node, content):
                lines.append(f"  {_id(node.id)} --> {_id(target)}")
    keys = " ".join(nav.person.keys)
    lines.append(f'  anywhere(["any menu"]) -.->|"{keys}"| {_id(nav.person.next)}')
    keys = " ".join(nav.main_menu.keys)
    lines.append(f'  anywhere -.->|"{keys}"| {_id(nav.main_menu.next)}')
    return "\n".join(lines) + "\n"

"""The phone menu and the SMS keywords as plain graphs, and the menu as a
Mermaid flowchart, for the README and for content authors.

`menu_graph` and `text_routes` say *what* there is to draw, once; the Mermaid
writer here and the operators' SVG (`ivr.web.admin.diagram`) only say *how*, so
the two pictures cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.content.model import (
    BackupNode,
    CallbackNode,
    Content,
    CounselorNode,
    HangupNode,
    LanguageNode,
    MenuNode,
    Node,
    TextMeNode,
    VoicemailNode,
    successors,
)


@dataclass(frozen=True)
class Step:
    """A node of the phone menu as drawn: its id, its kind, one detail."""

    id: str
    kind: str  # "menu", "say", "counselor", "backup line", "voicemail", "hang up", ...
    detail: str = ""  # the language a language node sets; the text a text-me node sends


@dataclass(frozen=True)
class Link:
    """A way from one step to another, labelled with what the caller does."""

    source: str
    target: str
    label: str = ""
    fallback: bool = False  # taken when the caller does not choose (drawn dotted)
    keys: tuple[str, ...] = ()  # the keys pressed, when it is a menu's choice


@dataclass(frozen=True)
class MenuGraph:
    start: str
    steps: tuple[Step, ...]  # in file order
    links: tuple[Link, ...]  # step by step, in file order
    anywhere: tuple[Link, ...]  # the choices that work in every menu; source ""


@dataclass(frozen=True)
class TextRoute:
    """One way the line reads a text, in the order it reads them."""

    name: str  # a keyword's id, or "crisis", "opt out", "opt in", "help", "anything else"
    words: tuple[str, ...]  # what a texter sends; empty for "anything else"
    action: str  # "crisis", "opt out", "opt in", "help", "reply", "callback", "language", "menu"
    reply: str  # the id of the text sent back
    language: str | None = None  # with "language": the language switched to


_KINDS: dict[type[Node], str] = {
    MenuNode: "menu",
    CounselorNode: "counselor",
    BackupNode: "backup line",
    VoicemailNode: "voicemail",
    CallbackNode: "callback",
    HangupNode: "hang up",
    LanguageNode: "language",
    TextMeNode: "text me",
}


def _step(node: Node) -> Step:
    detail = ""
    if isinstance(node, TextMeNode):
        detail = node.text
    elif isinstance(node, LanguageNode):
        detail = node.language
    elif isinstance(node, CallbackNode):
        detail = node.consent.replace("_", " ")
    return Step(node.id, _KINDS.get(type(node), "say"), detail)


def _links(node: Node, content: Content) -> list[Link]:
    if not isinstance(node, MenuNode):
        return [Link(node.id, target) for target, _ in successors(node, content)]
    language = content.default_language
    nav = content.navigation
    links = []
    for choice in node.choices:
        shown = language if choice.offered_in(language) else choice.languages[0]
        said = choice.words.get(shown, ())[:1]
        label = " / ".join([*choice.keys, *(f"'{w}'" for w in said)])
        if choice.languages:
            label += f" ({', '.join(choice.languages)})"
        links.append(Link(node.id, choice.next, label, keys=choice.keys))
    fail = node.on_fail or nav.on_fail
    links.append(Link(node.id, fail, f"no answer x{node.tries or nav.tries}", fallback=True))
    return links


def menu_graph(content: Content) -> MenuGraph:
    nodes = content.voice.nodes.values()
    nav = content.navigation
    return MenuGraph(
        start=content.voice.start,
        steps=tuple(_step(node) for node in nodes),
        links=tuple(link for node in nodes for link in _links(node, content)),
        anywhere=tuple(
            Link("", choice.next, " ".join(choice.keys), fallback=True, keys=choice.keys)
            for choice in (nav.person, nav.main_menu)
        ),
    )


def text_routes(content: Content) -> tuple[TextRoute, ...]:
    """Crisis first (its categories, for rules and a learned score), then the
    compliance words, the keywords, and the menu for anything else."""
    sms = content.sms
    language = content.default_language
    # What reads as a crisis is no word list: rules by category, then a score.
    crisis = tuple(
        dict.fromkeys(rule.category.replace("_", " ") for rule in content.crisis.rules.rules)
    )

    def compliance(kind: str) -> tuple[str, ...]:
        """Twilio's words, then each language's own (ALTO, AYUDA)."""
        words = [*getattr(sms, kind)]
        for lists in sms.by_language.values():
            words += lists.get(kind, ())
        return tuple(dict.fromkeys(words))

    routes = [
        TextRoute("crisis", crisis, "crisis", sms.replies.get("crisis", "")),
        TextRoute("opt out", compliance("opt_out"), "opt out", sms.replies.get("opted_out", "")),
        TextRoute("opt in", compliance("opt_in"), "opt in", sms.replies.get("opted_in", "")),
        TextRoute("help", compliance("help"), "help", sms.replies.get("help", "")),
    ]
    for keyword in sms.keywords:
        first = keyword.words.get(language, ())
        others = [w for lang, words in keyword.words.items() if lang != language for w in words]
        words = tuple(dict.fromkeys([*first, *others]))  # the default language's first, once each
        routes.append(TextRoute(keyword.id, words, keyword.action, keyword.reply, keyword.language))
    routes.append(TextRoute("anything else", (), "menu", sms.replies.get("menu", "")))
    return tuple(routes)


# Mermaid -------------------------------------------------------------------

_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def _id(node_id: str) -> str:
    return "n_" + _SAFE_ID.sub("_", node_id)


def _label(step: Step) -> str:
    detail = f": {step.detail}" if step.detail else ""
    return f"{step.id}<br/><i>{step.kind}{detail}</i>"


def _shape(step: Step) -> tuple[str, str]:
    if step.kind == "menu":
        return "{{", "}}"
    if step.kind in ("counselor", "backup line", "voicemail"):
        return "([", "])"
    if step.kind == "hang up":
        return "((", "))"
    return "[", "]"


def _edge(source: str, link: Link) -> str:
    arrow = "-.->" if link.fallback else "-->"
    label = f'|"{link.label}"| ' if link.label else " "
    return f"  {source} {arrow}{label}{_id(link.target)}"


def mermaid(content: Content) -> str:
    graph = menu_graph(content)
    lines = ["flowchart TD", f'  call(["incoming call"]) --> {_id(graph.start)}']
    for step in graph.steps:
        opening, closing = _shape(step)
        lines.append(f'  {_id(step.id)}{opening}"{_label(step)}"{closing}')
    lines += [_edge(_id(link.source), link) for link in graph.links]
    for n, link in enumerate(graph.anywhere):
        lines.append(_edge('anywhere(["any menu"])' if n == 0 else "anywhere", link))
    return "\n".join(lines) + "\n"

"""The Content page's pictures: the phone menu and what a text can say, drawn
as SVG from the same graph as `helpline flows graph`, laid out in layers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import Markup

from ivr.content.check import load_content
from ivr.content.graph import Link, MenuGraph, Step, menu_graph, text_routes
from ivr.content.model import Content
from ivr.platform.config import PROJECT_ROOT
from ivr.web.admin.diagram import content_diagram, menu_svg, phone_diagram, texts_diagram
from ivr.web.admin.layout import Placed, layered

SVG = "{http://www.w3.org/2000/svg}"
MINIMAL = Path(__file__).parent.parent / "flows_minimal"


@pytest.fixture(
    scope="module", params=[PROJECT_ROOT / "flows", MINIMAL], ids=["shipped", "minimal"]
)
def content(request: pytest.FixtureRequest) -> Content:
    directory = request.param
    assert isinstance(directory, Path)
    return load_content(directory)


def parse(svg: Markup) -> ET.Element:
    root = ET.fromstring(str(svg))  # noqa: S314 - our own picture
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    return root


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def test_the_menu_has_a_box_for_every_step(content: Content) -> None:
    root = parse(phone_diagram(content))
    drawn = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert drawn == set(content.voice.nodes)
    assert root.get("aria-label") == "The phone menu"


def test_every_way_between_steps_is_drawn_or_listed(content: Content) -> None:
    """A choice is a line (its label shown, or in a faint line's tooltip), a
    line of its menu's box when it repeats the menu, or the note about the
    choices that work in every menu."""
    root = parse(phone_diagram(content))
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    tips = " ".join(titles(root))
    graph = menu_graph(content)
    for link in graph.links:
        if link.source == link.target:
            assert f"↻ {link.label}" in text or link.label in text
        elif link.label:
            assert (
                link.label in text
                or f"{link.source} → {link.target}" in tips
                or any(
                    link.target == a.target and set(link.keys) & set(a.keys) for a in graph.anywhere
                )
            ), link
        else:
            assert f"{link.source} → {link.target}" in tips, link
    for link in graph.anywhere:
        assert f"{link.label} → {link.target}" in text


def test_ways_back_are_faint_and_choices_that_work_everywhere_are_not_repeated() -> None:
    content = load_content(PROJECT_ROOT / "flows")
    root = parse(phone_diagram(content))
    back = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge edge-back"]
    tips = [p.findtext(f"{SVG}title") or "" for p in back]
    assert "about_klonopin → learn: 3 / 'other topics'" in tips
    # "0 / 'counselor'" from deep menus is what "From any menu: 0 → counselor" says.
    assert not any(tip.startswith("learn → counselor: 0 /") for tip in tips)
    assert all(p.get("stroke") != "#3d4b5c" for p in back)


def test_the_texts_diagram_lists_every_keyword_in_reading_order(content: Content) -> None:
    root = parse(texts_diagram(content))
    names = [
        t.text
        for g in root.iter(f"{SVG}g")
        for t in g.iter(f"{SVG}text")
        if t.get("font-weight") == "bold"
    ]
    expected = ["crisis", "opt out", "opt in", "help"]
    expected += [k.id for k in content.sms.keywords] + ["anything else"]
    assert names == [*expected, "a text arrives"]


def test_text_routes_follow_the_order_the_line_reads_a_text() -> None:
    content = load_content(PROJECT_ROOT / "flows")
    routes = text_routes(content)
    assert [r.action for r in routes[:4]] == ["crisis", "opt out", "opt in", "help"]
    assert routes[-1].name == "anything else"
    callback = next(r for r in routes if r.name == "callback")
    assert callback.words[0] == "CALL"  # the default language's words come first
    assert "LLAMAR" in callback.words


def test_both_pictures_together_for_the_content_page(content: Content) -> None:
    both = ET.fromstring(f"<div>{content_diagram(content)}</div>")  # noqa: S314 - ours
    assert [child.get("aria-label") for child in both] == ["The phone menu", "What a text can say"]


def test_hostile_text_in_a_graph_stays_text() -> None:
    hostile = "<script>alert(1)</script>"
    graph = MenuGraph(
        start="a",
        steps=(Step("a", "menu"), Step(hostile, "say", hostile)),
        links=(Link("a", hostile, hostile), Link(hostile, "a"), Link("a", "a", hostile)),
        anywhere=(Link("", "a", hostile, fallback=True, keys=(hostile,)),),
    )
    svg = menu_svg(graph)
    root = parse(svg)
    assert "<script>" not in str(svg)
    assert list(root.iter(f"{SVG}script")) == []
    assert hostile in {g.get("data-node") for g in root.iter(f"{SVG}g")}


def test_layers_are_breadth_first_depths_from_the_entry() -> None:
    placed = layered(
        ["start", "menu", "deep", "deeper", "side", "lost"],
        [
            ("start", "menu"),
            ("menu", "deep"),
            ("menu", "side"),
            ("deep", "deeper"),
            ("deeper", "menu"),  # a way back changes no depth
            ("deep", "side"),  # nor a way across
        ],
        "start",
    )
    layers = {node: p.layer for node, p in placed.items()}
    assert layers == {"start": 0, "menu": 1, "deep": 2, "side": 2, "deeper": 3, "lost": 4}
    assert placed["start"] == Placed(0, 0)
    assert sorted(p.position for n, p in placed.items() if p.layer == 2) == [0, 1]


def test_a_layer_is_ordered_to_follow_the_layer_before() -> None:
    # Found first (from b1), c2 is mostly led to from the bottom of the layer
    # before (b3, b4): it goes below c1, which only b2 leads to.
    placed = layered(
        ["a", "b1", "b2", "b3", "b4", "c1", "c2"],
        [("a", b) for b in ("b1", "b2", "b3", "b4")]
        + [("b1", "c2"), ("b2", "c1"), ("b3", "c2"), ("b4", "c2")],
        "a",
    )
    assert [placed[b].position for b in ("b1", "b2", "b3", "b4")] == [0, 1, 2, 3]
    assert placed["c1"].position < placed["c2"].position

"""A layered layout for small directed graphs (the phone menu), in Python.

Layers are breadth-first depths from the entry node, so a caller's first
choices sit next to the greeting and each key press moves one layer on. An
edge to the same or an earlier layer is a way *back* (to the main menu, to
topics), which the drawing keeps faint. Within a layer, nodes are ordered by
the mean position of the nodes that lead to them (a few barycenter sweeps),
which untangles most crossings at this size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

SWEEPS = 4


@dataclass(frozen=True)
class Placed:
    layer: int
    position: int  # order within the layer, from 0


def layered(
    nodes: Sequence[str], edges: Sequence[tuple[str, str]], entry: str
) -> dict[str, Placed]:
    """Each node's layer and position. Nodes the entry cannot reach (content
    checks forbid them, but a drawing should not fail) go in a last layer."""
    following: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in following and target in following:
            following[source].append(target)
    depth = {entry: 0} if entry in following else {}
    queue = deque(depth)
    discovered = list(depth)  # breadth-first order: the first guess at each layer's order
    while queue:
        node = queue.popleft()
        for target in following[node]:
            if target not in depth:
                depth[target] = depth[node] + 1
                discovered.append(target)
                queue.append(target)
    unreached = max(depth.values(), default=-1) + 1
    for node in nodes:
        if node not in depth:
            depth[node] = unreached
            discovered.append(node)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in discovered:
        layers[depth[node]].append(node)
    leading: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in depth and target in depth and depth[source] == depth[target] - 1:
            leading[target].append(source)
    for _ in range(SWEEPS):
        index = {node: n for layer in layers for n, node in enumerate(layer)}
        for layer in layers[1:]:
            keys = {node: _mean([index[p] for p in leading[node]], index[node]) for node in layer}
            layer.sort(key=keys.__getitem__)
            index.update({node: n for n, node in enumerate(layer)})
    return {node: Placed(depth[node], n) for layer in layers for n, node in enumerate(layer)}


def _mean(values: list[int], otherwise: int) -> float:
    return sum(values) / len(values) if values else float(otherwise)

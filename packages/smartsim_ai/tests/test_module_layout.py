"""The C module's layout rules (docs/engine.md, "How the files depend on each other").

No two files of ``src/module`` include each other, directly or through others (a file being its
``.c`` and its ``.h``), and every layer's replies take their error texts from ``core/errors.h``,
the one table, instead of writing them inline.
"""

from __future__ import annotations

import re
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "src" / "module"


def include_graph() -> dict[str, set[str]]:
    """File name (without extension) -> the module's files it includes."""
    files: dict[str, list[Path]] = {}
    for path in MODULE.glob("*/*.[ch]"):
        files.setdefault(path.stem, []).append(path)
    graph: dict[str, set[str]] = {}
    for name, paths in files.items():
        included = {m for p in paths for m in re.findall(r'#include "(\w+)\.h"', p.read_text())}
        graph[name] = {m for m in included if m in files and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each file from which a chain of includes leads back to itself, with that chain."""
    found = []
    for start in sorted(graph):
        parent: dict[str, str] = {}
        stack = [start]
        while stack and start not in parent:
            node = stack.pop()
            for nxt in sorted(graph[node], reverse=True):
                if nxt not in parent:
                    parent[nxt] = node
                    stack.append(nxt)
        if start in parent:
            chain = [start]
            while chain[-1] != start or len(chain) == 1:
                chain.append(parent[chain[-1]])
            found.append(chain[::-1])
    return found


def test_the_module_include_graph_has_no_cycle() -> None:
    graph = include_graph()
    assert {"request", "run_queue", "execute", "submit", "hooks", "model"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_layer_writes_an_error_text_inline() -> None:
    inline = [
        f"{path.relative_to(MODULE)}:{n}: {line.strip()}"
        for path in sorted(MODULE.glob("*/*.c"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r'"(ERR|NOPERM|WRONGTYPE) ', line) and "RedisModule_Log" not in line
    ]
    assert inline == []

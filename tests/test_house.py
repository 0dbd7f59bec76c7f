"""The house rules, checked on every run: no module in batchpay/ over 400 lines, no function
or method over 50 lines (from its ``def`` line to its last line), and no import circle among
batchpay's modules.

The rules are a ratchet. What broke them when this check came in is written down below with
its size at that time: it may shrink, never grow past that size, and its entry goes once it
meets the rule (the check says so). Anything new must meet the rules from the start.

Imports are read with ``ast``, all of them: at the top, inside functions (a deferred import is
still a dependency) and under ``if TYPE_CHECKING:`` (a type that names the module above it is
a circle in the design even where it does not run). ``from batchpay.x import y`` depends on
``batchpay.x.y`` where that is a module, else on ``batchpay.x``; the parent packages a
dotted import opens on the way are not counted as edges.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "batchpay"

MODULE_LIMIT = 400  # lines in a module
FUNCTION_LIMIT = 50  # lines of a function or method, def line to end line

# Modules over the limit when the check came in, with their line count then.
ALLOWED_MODULES: dict[str, int] = {}  # ledger/store.py's (668) went with its split (#15)

# Functions over the limit when the check came in ("file:qualified.name"), with their length.
ALLOWED_FUNCTIONS: dict[str, int] = {}

# Imports that closed a circle when the check came in ("importer -> imported": the circle
# it closes, and how to break it). Without them the graph has no circle; each must still
# close one, or its entry goes.
ALLOWED_BACK_EDGES: dict[str, str] = {}


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    name: str  # dotted: batchpay.send
    label: str  # as a path: batchpay/send/__init__.py
    path: Path
    tree: ast.Module
    lines: int


def modules(package: Path) -> dict[str, Module]:
    """Every module of the package at ``package``, by dotted name."""
    found: dict[str, Module] = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent)
        parts = relative.with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        found[name] = Module(name, relative.as_posix(), path, tree, len(text.splitlines()))
    return found


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, lines from the def line to the end line) of every function, nested
    ones and methods included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            yield name, end - node.lineno + 1
            yield from functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, prefix + node.name + ".")
        else:
            yield from functions(node, prefix)


def imported(module: Module, known: set[str], node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules one import statement depends on."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names} & known
    if node.level:
        here = module.name.split(".")
        if module.path.name != "__init__.py":
            here = here[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, node.module] if node.module else here)
    else:
        base = node.module or ""
    targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return targets & known


def import_graph(found: dict[str, Module]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text."""
    known = set(found)
    graph: dict[str, set[str]] = {}
    for name, module in found.items():
        edges: set[str] = set()
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= imported(module, known, node)
        graph[name] = edges - {name}
    return graph


def path_between(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest import path from ``start`` to ``goal`` (both included), or None."""
    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph.get(node, ())):
                if nxt in previous:
                    continue
                previous[nxt] = node
                if nxt == goal:
                    path = [goal]
                    while (step := previous[path[-1]]) is not None:
                        path.append(step)
                    return path[::-1]
                following.append(nxt)
        frontier = following
    return None


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import circle (a path that ends where it starts) for each knot of modules that
    import one another, shortest first from the knot's first module by name."""
    reach = {node: reachable(graph, node) for node in graph}
    found: list[list[str]] = []
    done: set[str] = set()
    for node in sorted(graph):
        if node in done or node not in reach[node]:
            continue
        knot = {other for other in reach[node] if node in reach.get(other, set())}
        done |= knot
        shortest = min(
            (
                [node, *back]
                for nxt in sorted(graph[node])
                if (back := path_between(graph, nxt, node))
            ),
            key=len,
        )
        found.append(shortest)
    return found


# -- judging --------------------------------------------------------------------------------


def size_offences(found: dict[str, Module]) -> list[str]:
    wrong: list[str] = []
    for module in found.values():
        allowed = ALLOWED_MODULES.get(module.label, MODULE_LIMIT)
        if module.lines > allowed:
            wrong.append(
                f"{module.label} has {module.lines} lines, over its "
                f"{'recorded ' if module.label in ALLOWED_MODULES else ''}{allowed}: split it "
                f"along stage lines into modules that each do one job (limit {MODULE_LIMIT})"
            )
        for qualname, lines in functions(module.tree):
            key = f"{module.label}:{qualname}"
            allowed = ALLOWED_FUNCTIONS.get(key, FUNCTION_LIMIT)
            if lines > allowed:
                wrong.append(
                    f"{key} has {lines} lines, over its "
                    f"{'recorded ' if key in ALLOWED_FUNCTIONS else ''}{allowed}: split it into "
                    f"named steps of at most {FUNCTION_LIMIT} lines each"
                )
    return wrong


def stale_size_allowances(found: dict[str, Module]) -> list[str]:
    by_label = {m.label: m for m in found.values()}
    sizes = {f"{m.label}:{q}": lines for m in found.values() for q, lines in functions(m.tree)}
    stale = [
        f"{label} (now {by_label[label].lines if label in by_label else 'gone'})"
        for label in ALLOWED_MODULES
        if label not in by_label or by_label[label].lines <= MODULE_LIMIT
    ]
    stale += [
        f"{key} (now {sizes.get(key, 'gone')})"
        for key in ALLOWED_FUNCTIONS
        if sizes.get(key, 0) <= FUNCTION_LIMIT
    ]
    return stale


def cycle_offences(graph: dict[str, set[str]]) -> list[str]:
    """Circles left once the allowed back edges are taken out, and allowed back edges that no
    longer close a circle (their entry goes)."""
    wrong: list[str] = []
    pruned = {name: set(edges) for name, edges in graph.items()}
    for edge in ALLOWED_BACK_EDGES:
        importer, target = edge.split(" -> ")
        if target not in graph.get(importer, set()):
            wrong.append(f"allowed back edge {edge} is gone: remove it from ALLOWED_BACK_EDGES")
        elif path_between(graph, target, importer) is None:
            wrong.append(
                f"allowed back edge {edge} no longer closes a circle: remove it from "
                "ALLOWED_BACK_EDGES"
            )
        pruned.get(importer, set()).discard(target)
    wrong += [
        "import circle: " + " -> ".join(cycle) + ": move what both sides need to a module "
        "below them both (or import it from where it is defined), so imports only go down"
        for cycle in circles(pruned)
    ]
    return wrong


# -- the checks -----------------------------------------------------------------------------


def test_no_module_or_function_grows_past_the_limits() -> None:
    wrong = size_offences(modules(PACKAGE))
    assert not wrong, "\n".join(wrong)


def test_the_size_allowances_only_hold_what_still_breaks_the_rules() -> None:
    stale = stale_size_allowances(modules(PACKAGE))
    assert not stale, "these now meet the rules; remove them from the allowances in " + (
        "tests/test_house.py: " + ", ".join(stale)
    )


def test_no_import_circle_among_batchpay_modules() -> None:
    wrong = cycle_offences(import_graph(modules(PACKAGE)))
    assert not wrong, "\n".join(wrong)


# -- the checker catches what it is for ----------------------------------------------------


def _function(name: str, lines: int, indent: str = "") -> str:
    """A function of exactly ``lines`` lines, its def line included."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
    return f"{indent}def {name}() -> None:\n{body}"


def _write(root: Path, files: dict[str, str]) -> Path:
    package = root / "batchpay"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package


STORE = 668  # ledger/store.py's allowance before its split into rooms (#15)
CLI = 502  # cli.py's allowance before it became the package batchpay/cli/


def test_the_checker_finds_long_modules_and_functions_and_holds_the_ratchet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ALLOWED_MODULES, "batchpay/cli.py", CLI)
    monkeypatch.setitem(ALLOWED_MODULES, "batchpay/ledger/store.py", STORE)
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "ledger/__init__.py": "",
            "ledger/store.py": "x = 1\n" * (STORE + 1),
            "cli.py": "x = 1\n" * CLI,  # at its recorded size
            "big.py": "x = 1\n" * 401,
            "fine.py": "x = 1\n" * 400,
            "funcs.py": "class C:\n"
            + _function("long", 51, indent="    ")
            + _function("short", 50)
            + _function("outer", 20)
            + _function("inner", 50, indent="    "),
        },
    )
    wrong = size_offences(modules(package))
    assert [w.split(": split")[0] for w in wrong] == [
        "batchpay/big.py has 401 lines, over its 400",
        "batchpay/funcs.py:C.long has 51 lines, over its 50",
        "batchpay/funcs.py:outer has 70 lines, over its 50",  # its nested function counts in it
        f"batchpay/ledger/store.py has {STORE + 1} lines, over its recorded {STORE}",  # never grows
    ]


def test_the_checker_finds_circles_through_deferred_and_relative_imports(
    tmp_path: Path,
) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "low.py": "def f() -> None:\n    from batchpay.stage import later\n",
            "stage/__init__.py": "from .later import g\n",
            "stage/later.py": "from batchpay import low\ndef g() -> None: ...\n",
            "alone.py": "import batchpay.low\nfrom batchpay import stage\n",
        },
    )
    graph = import_graph(modules(package))
    assert graph["batchpay.low"] == {"batchpay.stage.later"}
    assert graph["batchpay.stage"] == {"batchpay.stage.later"}
    assert graph["batchpay.alone"] == {"batchpay.low", "batchpay.stage"}
    assert circles(graph) == [["batchpay.low", "batchpay.stage.later", "batchpay.low"]]
    graph["batchpay.stage.later"] = set()
    assert circles(graph) == []


# Two back edges as they were allowed once (both are broken now), for the check below.
FORMER_BACK_EDGES: dict[str, str] = {
    "batchpay.providers.http -> batchpay": "the HTTP base imported the package face",
    "batchpay.ingest.unseen -> batchpay.ingest": "unseen named ingest's Sheet type",
}


def test_an_allowed_back_edge_holds_only_while_it_closes_a_circle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ALLOWED_BACK_EDGES", FORMER_BACK_EDGES)
    graph = {
        "batchpay": set(),
        "batchpay.providers.http": {"batchpay"},  # allowed, but nothing leads back any more
        "batchpay.ingest": {"batchpay.ingest.unseen"},
        "batchpay.ingest.unseen": {"batchpay.ingest"},  # allowed, and still a circle
        "batchpay.a": {"batchpay.b"},
        "batchpay.b": {"batchpay.a", "batchpay.c"},  # new
        "batchpay.c": {"batchpay.d"},
        "batchpay.d": {"batchpay.b", "batchpay.c"},  # the same knot as a and b
        "batchpay.e": {"batchpay.f"},
        "batchpay.f": {"batchpay.e"},  # another one
    }
    wrong = [w.split(": ")[0] for w in cycle_offences(graph)]
    assert wrong == [
        "allowed back edge batchpay.providers.http -> batchpay no longer closes a circle",
        "import circle",
        "import circle",
    ]
    assert [w.split(": ")[1] for w in cycle_offences(graph)[1:]] == [
        "batchpay.a -> batchpay.b -> batchpay.a",
        "batchpay.e -> batchpay.f -> batchpay.e",
    ]

"""The emulation checks the adapters' signatures with code of its own: none of its modules
imports anything from ``batchpay.providers`` (a shared signing mistake would pass every test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import batchpay.emulator

EMULATOR = Path(batchpay.emulator.__file__).parent
FORBIDDEN = "batchpay.providers"


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports (relative imports resolved, names of a
    ``from package import name`` counted as ``package.name`` too)."""
    package = "batchpay.emulator"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _offending(modules: set[str]) -> set[str]:
    return {m for m in modules if m == FORBIDDEN or m.startswith(FORBIDDEN + ".")}


MODULES = sorted(EMULATOR.glob("*.py"))


def test_every_emulator_module_is_walked() -> None:
    names = {p.stem for p in MODULES}
    assert {"signing", "thedex", "pay2328", "pontis", "oxapay", "keys", "core"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_emulator_module_imports_the_adapters(path: Path) -> None:
    assert _offending(imported_modules(path)) == set()


@pytest.mark.parametrize(
    "source",
    [
        "from batchpay.providers.wire import b64",
        "import batchpay.providers.pontis_crypto",
        "from batchpay import providers",
        "from ..providers import wire",
        "def f():\n    from batchpay.providers.sandbox import simulated_cents\n",
    ],
)
def test_the_walk_sees_each_spelling_of_such_an_import(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source + "\n", encoding="utf-8")
    assert _offending(imported_modules(module))

"""The code layout the house style asks for, kept from drifting back: one idea per module,
packages whose ``__init__`` only re-exports, and no module borrowing another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("territory_engine", "excel_addin") for p in (ROOT / folder).rglob("*.py"))
ENGINE = [p for p in SOURCES if p.parts[len(ROOT.parts)] == "territory_engine"]

LONG_FUNCTIONS = {
    # Stated reasons (in their docstrings): every step of a tabu move shares the same dozen
    # candidate arrays and caches; design() is mostly its numpydoc docstring.
    ("territory_engine/contiguous/tabu.py", "tabu_search"),
    ("territory_engine/rebalance/entry.py", "design"),
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_module_imports_another_modules_private_names(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            assert not private, f"{_name(path)}:{node.lineno} imports {private} from {node.module}"


@pytest.mark.parametrize("path", [p for p in ENGINE if p.name == "__init__.py"], ids=_name)
def test_a_package_init_only_re_exports(path):
    for node in _tree(path).body:
        assert isinstance(node, (ast.Expr, ast.Import, ast.ImportFrom, ast.Assign)), (
            f"{_name(path)}:{node.lineno} defines {type(node).__name__}; move it to a module of its own")
        if isinstance(node, ast.Assign):
            assert [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"], (
                f"{_name(path)}:{node.lineno} assigns something other than __all__")


@pytest.mark.parametrize("path", ENGINE, ids=_name)
def test_modules_and_functions_stay_small(path):
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= 650, f"{_name(path)} has {source.count(chr(10))} lines; split it by idea"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if (_name(path), node.name) not in LONG_FUNCTIONS:
                assert length <= 110, f"{_name(path)}:{node.lineno} {node.name} is {length} lines"

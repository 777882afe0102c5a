"""Dependencies point one way, read from the source with ``ast`` (deferred and type-checking imports count).

Layers, top to bottom: ``cli`` -> ``ops`` -> ``platform`` -> one cloud package -> ``core``. A module
may import its own layer or a lower one; ``core`` imports nothing outside ``core``; a cloud package
never imports another cloud; construct modules never import cdktf/cdktn (only ``core.engine`` does);
and there is no import cycle between the library's modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "constructs_lib"
CLOUDS = ("aws", "azure", "gcp")
#: Layer of each top-level part of the package: a module may import only its own or lower layers.
LAYERS = {"core": 0, "aws": 1, "azure": 1, "gcp": 1, "platform": 2, "ops": 3, "cli": 4, "__init__": 4}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``constructs_lib`` module (or package) ``path`` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            # `from . import engine` imports a module, not a name: keep the submodule.
            found.update(f"{mod}.{a.name}" for a in node.names)
    modules = _all_modules()
    return {m for m in found if m in modules}


_CACHE: dict[str, Path] = {}


def _all_modules() -> dict[str, Path]:
    if not _CACHE:
        for path in sorted(PACKAGE.rglob("*.py")):
            _CACHE[_module_name(path)] = path
    return _CACHE


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    return {name: _imports(path) - {name} for name, path in _all_modules().items()}


def _layer_problems(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for mod, deps in sorted(graph.items()):
        part = _part(mod)
        for dep in sorted(deps):
            dep_part = _part(dep)
            if dep == "constructs_lib":
                continue  # the package itself (its __init__ is re-exports)
            if part in CLOUDS and dep_part in CLOUDS and dep_part != part:
                problems.append(f"{mod} imports {dep}: a cloud package never imports another cloud")
            elif LAYERS.get(dep_part, 0) > LAYERS.get(part, 0):
                problems.append(f"{mod} imports {dep}: {part} may not import the higher layer {dep_part}")
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative order = sorted)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Importing ``a.b.c`` runs ``a/b/__init__``: drop edges into a package's own ``__init__`` re-exports."""
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}


def test_dependencies_point_down() -> None:
    assert _layer_problems(_graph()) == []


def test_no_import_cycles() -> None:
    assert _cycles(_package_parents(_graph())) == []


def test_only_the_engine_imports_cdktf() -> None:
    bad = []
    for name, path in _all_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(m.split(".")[0] in ("cdktf", "cdktn") for m in mods) and name != "constructs_lib.core.engine":
                bad.append(name)
    assert bad == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/x.py": "from ..platform import build_stack\n"}, "core may not import the higher layer platform"),
        ({"core/x.py": "def f():\n    from constructs_lib.aws import storage\n"}, "core may not import the higher layer aws"),
        ({"aws/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..gcp import storage\n"}, "never imports another cloud"),
        ({"gcp/a.py": "from . import b\n", "gcp/b.py": "def f():\n    from .a import x\n"}, "cycle"),
    ],
)
def test_the_check_sees_violations(tmp_path: Path, monkeypatch, files: dict[str, str], expected: str) -> None:
    """A new upward import or cycle, deferred or type-checking only, fails the check."""
    pkg = tmp_path / "constructs_lib"
    for part in ("", "core", "aws", "gcp"):
        (pkg / part).mkdir(parents=True, exist_ok=True)
        (pkg / part / "__init__.py").write_text("")
    (pkg / "platform.py").write_text("def build_stack():\n    pass\n")
    (pkg / "aws" / "storage.py").write_text("")
    (pkg / "gcp" / "storage.py").write_text("")
    for rel, text in files.items():
        (pkg / rel).write_text(text)
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "PACKAGE", pkg)
    _CACHE.clear()
    try:
        graph = _graph()
        found = _layer_problems(graph) + [f"cycle {c}" for c in _cycles(_package_parents(graph))]
    finally:
        _CACHE.clear()
    assert any(expected in p for p in found), found


def test_no_function_over_150_lines() -> None:
    """Readable constructors: a long function becomes named steps (issue: one plan, readable code)."""
    long = []
    for name, path in _all_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 150:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert long == []

"""The import graph of the source, lazy imports (inside functions) and annotation-only imports
included: layers point one way (api → logic → models, dal → models, wired by one composition root),
shared infrastructure imports no layer, and no module is part of an import cycle."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
APP = "serverless_crud"
#: Modules every layer may import: configuration, errors, logging and metrics.
SHARED = {f"{APP}.settings", f"{APP}.errors", f"{APP}.observability", APP}
#: What each layer may import of the app, beside itself and the shared modules.
ALLOWED = {
    "models": set(),
    "dal": {"models"},
    "logic": {"models"},
    "api": {"logic", "models"},
}
#: The entry points and the composition root: they wire the layers, so they may import any.
ROOTS = {f"{APP}.handler", f"{APP}.tasks", f"{APP}.history_consumer", f"{APP}.wiring", f"{APP}.snapstart"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the source tree by dotted name."""
    return {_module_name(p): p for p in SRC.rglob("*.py")}


@cache
def imports_of(name: str) -> frozenset[str]:
    """The source modules `name` imports, wherever the import statement is."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules() else base)
    return frozenset(m for m in found if m in modules())


def _layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == APP and parts[1] in ALLOWED else None


@pytest.mark.parametrize("name", sorted(m for m in modules() if m.startswith(APP + ".")))
def test_each_module_imports_only_what_its_layer_may(name: str) -> None:
    layer = _layer(name)
    wrong = []
    for imported in imports_of(name):
        if not imported.startswith(APP) or imported in SHARED or name in ROOTS:
            continue
        if name in SHARED:
            if imported not in SHARED:
                wrong.append(imported)
            continue
        target = _layer(imported)
        if layer is None or target is None or (target != layer and target not in ALLOWED[layer]):
            wrong.append(imported)
    assert not wrong, f"{name} ({layer or 'shared'}) imports {', '.join(sorted(wrong))}"


def test_the_local_runtime_and_the_app_do_not_import_each_other() -> None:
    for name in modules():
        others = {"serverless_local": APP, APP: "serverless_local"}
        for own, other in others.items():
            if name.split(".")[0] == own:
                assert not [m for m in imports_of(name) if m.split(".")[0] == other], name


RUNTIME = "serverless_local"
#: Where the runtime's services are listed: the one module of them the server may name.
SERVICE_REGISTRY = f"{RUNTIME}.services.registry"
#: What runs inside a function's execution environment: nothing of the runtime (a fast cold start).
WORKER = f"{RUNTIME}.services.lambda_.worker"


def test_the_local_server_names_no_service_but_their_registry() -> None:
    named = {m for m in imports_of(f"{RUNTIME}.server") if m.startswith(f"{RUNTIME}.services")}
    assert named == {SERVICE_REGISTRY}


def test_the_http_edge_imports_only_the_neutral_http_module_of_the_runtime() -> None:
    assert {m for m in imports_of(f"{RUNTIME}.http_edge") if m.startswith(RUNTIME)} == {f"{RUNTIME}.http"}


def test_a_functions_execution_environment_imports_nothing_of_the_runtime() -> None:
    parts = WORKER.split(".")
    packages = [".".join(parts[:n]) for n in range(1, len(parts))]  # each imported before the worker
    for name in [WORKER, *packages]:
        assert not [m for m in imports_of(name) if m.startswith(RUNTIME)], name


def test_there_is_no_import_cycle() -> None:
    """Tarjan's strongly connected components over every module: each must be alone."""
    graph = {name: sorted(imports_of(name)) for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_reader_sees_lazy_imports() -> None:
    # api.app imports api.openapi inside the route that serves the document.
    assert f"{APP}.api.openapi" in imports_of(f"{APP}.api.app")
    assert f"{APP}.dal.clients" in imports_of(f"{APP}.wiring")

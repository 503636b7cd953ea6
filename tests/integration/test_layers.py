"""The layers, as docs/architecture.md draws them: every module imports on its
own, no two modules import each other (even only for type checking), and
the arrows point inward: the domain imports nothing outside itself, and the
projections, the audit tools and the event-log port never import the
application layer that drives them.

Read from the source with ``ast``, so a layering mistake fails here, by
name, before it shows up as a cycle at import time in some other order.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import quality_ledger

SOURCE = Path(quality_ledger.__file__).resolve().parent
PACKAGE = "quality_ledger"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}

APPLICATION = (
    "ledger",
    "writing",
    "batches",
    "children",
    "reading",
    "auditing",
    "parts",
    "handlers",
    "receipts",
    "status",
    "retry",
    "render",
    "cli",
    "scenarios",
    "testing",
)
"""The application layer and its users: they drive the layers below, never the reverse."""

INNER = (
    "projections",
    "audit",
    "eventlog",
    "persistence",
    "store",
    "scratch",
    "figures",
    "command_records",
    "names",
    "snapshots",
    "recent",
)
"""What the application layer stands on: none of it may import the application layer."""

DOMAIN_MAY_IMPORT = ("quality_ledger.domain", "quality_ledger.errors", "quality_ledger.renamed")
"""Besides itself: the errors, and the old-names shim (a leaf, checked below)."""
DOMAIN_MUST_NOT_IMPORT = ("sqlalchemy", "eventsourcing.application", "eventsourcing.persistence", "psycopg")


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def imports(name: str) -> Iterator[tuple[int, str]]:
    """Every module ``name`` imports (line, module), wherever the import
    stands: at the top, in a function, or under ``TYPE_CHECKING``."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            yield from ((node.lineno, s) for s in submodules)
            if len(submodules) < len(node.names):
                yield node.lineno, base


def internal_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a parent package, which
    Python imports first anyway, is not an edge)."""
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = {
            target
            for _, target in imports(name)
            if target in MODULES and target != name and not name.startswith(target + ".")
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_reads_the_modules_it_should() -> None:
    # the check below would pass vacuously on a graph without edges
    graph = internal_graph()
    assert "quality_ledger.eventlog" in graph["quality_ledger.ledger"]
    assert "quality_ledger.eventlog" in graph["quality_ledger.audit.replay"]
    assert "quality_ledger.domain.base" in graph["quality_ledger.domain.campaign"]


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_two_modules_import_each_other() -> None:
    assert cycles(internal_graph()) == []


def test_the_domain_imports_nothing_outward() -> None:
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if _within(name, ("quality_ledger.domain",))
        for line, target in imports(name)
        if (target.startswith(PACKAGE) and not _within(target, DOMAIN_MAY_IMPORT))
        or _within(target, DOMAIN_MUST_NOT_IMPORT)
    ]
    assert wrong == []


def test_the_modules_the_domain_may_import_are_leaves() -> None:
    # errors and renamed import nothing of the package, so the domain stays innermost
    outward = [
        t for m in ("quality_ledger.errors", "quality_ledger.renamed") for _, t in imports(m) if t.startswith(PACKAGE)
    ]
    assert outward == []


def test_projections_audit_and_the_event_log_never_import_the_application_layer() -> None:
    application = tuple(f"{PACKAGE}.{m}" for m in APPLICATION)
    inner = tuple(f"{PACKAGE}.{m}" for m in INNER)
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if _within(name, inner)
        for line, target in imports(name)
        if _within(target, application)
    ]
    assert wrong == []


ISOLATED_IMPORTS = """
import importlib, sys
from eventsourcing.utils import clear_topic_cache
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "quality_ledger" or m.startswith("quality_ledger.")]:
        del sys.modules[loaded]
    clear_topic_cache()  # the stable names register again, with the fresh classes
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("half", [0, 1])
def test_every_module_imports_on_its_own(half: int) -> None:
    # each module first, in a process where nothing of the package is loaded yet:
    # an import that works only after another module was imported fails here
    # (__main__ too: imported by a tool walking the package, it must not run the CLI)
    names = sorted(MODULES)[half::2]
    done = subprocess.run(
        [sys.executable, "-c", ISOLATED_IMPORTS, *names], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""The package's import graph: no cycles among module-level imports, and no new ones among
the imports deferred into functions (docs/layout.md lists the known ones and how the
layout moves cut them)."""

import ast
from pathlib import Path

import sigint

ROOT = Path(sigint.__file__).parent

#: Groups of modules that import each other through imports deferred into functions: a
#: driver and the modules that call back into it lazily (none at import time).
KNOWN_DEFERRED = [
    {"sigint.analysis.analyze", "sigint.api", "sigint.analysis.lanes"},
    {"sigint.extract.rlgc", "sigint.report.extract_report", "sigint.report.build_report",
     "sigint.report.html"},
    {"sigint.extract.peec", "sigint.extract.reduced"},
]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level edges, module- and function-level edges); imports under
    ``if TYPE_CHECKING:`` are for type checkers only and left out; a package's edges to its
    own submodules, and a submodule's to the root package, are how packages work."""
    mods = {_module(p): p for p in ROOT.rglob("*.py")}
    top: dict[str, set[str]] = {m: set() for m in mods}
    run: dict[str, set[str]] = {m: set() for m in mods}

    def targets(node: ast.AST, m: str) -> list[str]:
        pkg = m if mods[m].name == "__init__.py" else m.rsplit(".", 1)[0]
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name in mods]
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in mods]
        return subs if len(subs) == len(node.names) else subs + ([mod] if mod in mods else [])

    def visit(node: ast.AST, m: str, deferred: bool) -> None:
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, ast.If) and "TYPE_CHECKING" in ast.unparse(ch.test):
                continue
            d = deferred or isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(ch, (ast.Import, ast.ImportFrom)):
                for t in targets(ch, m):
                    if t == m or t.startswith(m + ".") or t == "sigint":
                        continue
                    run[m].add(t)
                    if not d:
                        top[m].add(t)
            visit(ch, m, d)

    for m, p in mods.items():
        visit(ast.parse(p.read_text(encoding="utf-8")), m, False)
    return top, run


def _cycles(g: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[tuple[str, ...]] = set()

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                strong(w)
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
                out.add(tuple(sorted(comp)))

    for v in g:
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles_at_module_level():
    top, _ = _graph()
    assert _cycles(top) == set()


def test_no_new_deferred_import_cycles():
    _, run = _graph()
    new = [c for c in _cycles(run) if not any(set(c) <= k for k in KNOWN_DEFERRED)]
    assert not new, new


def test_the_graph_sees_a_known_edge():
    """The walk finds imports (a guard against a checker that passes by seeing nothing)."""
    top, run = _graph()
    assert "sigint.network.quality" in top["sigint.timedomain.pulse"]
    assert "sigint.report.dataset" in run["sigint.analysis.analyze"]
    assert "sigint.report.dataset" not in top["sigint.analysis.analyze"]


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {("a", "b", "c")}


OLD_PATHS = {
    "sigint.model": "sigint.schema",
    "sigint.xsection.model": "sigint.xsection.schema",
    "sigint.channel.model": "sigint.channel.schema",
    "sigint.link.models": "sigint.link.txrx",
    "sigint.network.mtl": "sigint.channel.lines",
    "sigint.network.ports": "sigint.link.ports",
    "sigint.lanes": "sigint.analysis.lanes",
    "sigint.rate": "sigint.analysis.rate",
    "sigint.validate": "sigint.analysis.validate",
}


def test_old_module_paths_warn_and_give_the_same_objects():
    """Each module moved by the layout of docs/layout.md stays importable under its old
    name for one release: importing it warns once and gives the new module's objects."""
    import importlib
    import sys
    import warnings

    import pytest

    for old, new in OLD_PATHS.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
            mod_old = importlib.import_module(old)
        mod_new = importlib.import_module(new)
        names = [n for n in vars(mod_new) if not n.startswith("__")]   # private ones too
        assert names and all(getattr(mod_old, n) is getattr(mod_new, n) for n in names), old
        sys.modules.pop(old, None)
    # the entry point stays, callable, without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import sigint.analyze as entry
    pipeline = importlib.import_module("sigint.analysis.analyze")
    assert callable(entry) and entry.AnalysisOptions is pipeline.AnalysisOptions
    assert entry._stages is pipeline._stages and entry.xt_timing is pipeline.xt_timing

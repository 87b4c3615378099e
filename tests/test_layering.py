"""Layering: no import cycles between the package's parts, command-line code only in ``cli/``, and library
errors that never name a command-line flag (the library is called from notebooks too)."""

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "inception_tools"
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def modules():
    """(part, path, tree) of every module: the part is the sub-package or top-level module it belongs to."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        part = rel.parts[0].removesuffix(".py")
        yield part, path, ast.parse(path.read_text())


def imported_parts(tree):
    """The package parts a module imports, at the top or inside functions."""
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "inception_tools" and len(parts) > 1:
                if (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file():
                    yield parts[1]


def import_graph():
    graph = {}
    for part, _, tree in modules():
        graph.setdefault(part, set()).update(p for p in imported_parts(tree) if p != part)
    return graph


def cycles(graph):
    """The strongly connected components of more than one part (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_parts_of_the_package_import_one_another_without_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_command_line_code_lives_in_cli():
    for part, path, tree in modules():
        if part in ("cli", "__main__"):
            continue
        imported = {name for name in imported_parts(tree)}
        plain = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "cli" not in imported and "argparse" not in plain, path


def user_error_texts(tree):
    """The string pieces of every ``UserError(...)`` built in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "UserError":
            for arg in node.args:
                for piece in ast.walk(arg):
                    if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                        yield piece.lineno, piece.value


def test_library_errors_never_name_a_command_line_flag():
    found = [f"{path.relative_to(PACKAGE)}:{line}: {text}" for part, path, tree in modules() if part != "cli"
             for line, text in user_error_texts(tree) if FLAG.search(re.sub(r"`[^`]*`", "", text))]
    assert found == []


def test_the_flag_finder_finds_a_flag():
    tree = ast.parse('raise UserError(f"--top-k must be positive, got {k}")\nraise UserError("top_k is x-y --")')
    assert [bool(FLAG.search(text)) for _, text in user_error_texts(tree)] == [True, False]

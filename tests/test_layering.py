"""Layering: no import cycles between the package's parts, command-line code only in ``cli/``, library
errors that never name a command-line flag (the library is called from notebooks too), and no function
with more than 8 parameters (docs/design.md: a frozen config or a small object instead)."""

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "inception_tools"
FLAG = re.compile(r"(?<![\w-])--[a-z]")
MAX_PARAMETERS = 8


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


def parameter_count(function, api=False):
    """The parameters of a function definition, ``self``/``cls`` left out; ``*args`` and ``**kwargs`` count one
    each. In the notebook API (``api/``) keyword-only settings do not count: a notebook user types them by
    name (``it.render(model, "mixed3a", 83, steps=64)``) and the function builds the stage's frozen config
    from them (docs/design.md)."""
    a = function.args
    positional = a.posonlyargs + a.args
    count = len(positional) - (1 if positional and positional[0].arg in ("self", "cls") else 0)
    count += (a.vararg is not None) + (a.kwarg is not None)
    return count if api else count + len(a.kwonlyargs)


def test_no_function_takes_more_than_eight_parameters():
    found = [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {parameter_count(node, part == 'api')}"
             for part, path, tree in modules() for node in ast.walk(tree)
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and parameter_count(node, part == "api") > MAX_PARAMETERS]
    assert found == []


def test_the_parameter_counter_counts():
    tree = ast.parse("class A:\n    def f(self, a, b=1, *c, d, **e): pass\n"
                     "def g(a, b, c, d, e, f, g, h, i): pass\nasync def h(*, a, b): pass\n")
    f, g, h = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
                     key=lambda n: n.name)
    assert [parameter_count(f), parameter_count(g), parameter_count(h)] == [5, 9, 2]
    assert [parameter_count(f, api=True), parameter_count(h, api=True)] == [4, 0]

"""Function lengths and module sizes of the package (issue 14, item 3: modules with one job each).

    python tools/function_lengths.py                 # functions over 80 lines, longest first
    python tools/function_lengths.py --over 100      # another threshold
    python tools/function_lengths.py --top 10 --exclude simulate register
    python tools/function_lengths.py --modules       # module line counts, largest first

A function's length is ``end_lineno - lineno + 1`` from ``ast`` (decorators not counted, the
docstring and nested functions counted). A nested function is listed on its own as well, under
``outer.inner``. Standard library only, so it runs with any Python 3.11.
"""
from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mentorwijs"


@dataclass(frozen=True)
class Function:
    module: str       # path relative to src/mentorwijs, e.g. "effects/did.py"
    name: str         # qualified within the module: "Class.method", "outer.inner"
    lineno: int
    length: int
    parameters: int


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    names = [n for n in names if n.arg not in ("self", "cls")]
    return len(names) + (a.vararg is not None) + (a.kwarg is not None)


def functions(path: Path, root: Path = PACKAGE) -> list[Function]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = path.relative_to(root).as_posix()
    found: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                found.append(Function(module, name, child.lineno,
                                      child.end_lineno - child.lineno + 1, _parameters(child)))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def modules(root: Path = PACKAGE, exclude: tuple[str, ...] = ()) -> list[Path]:
    return sorted(p for p in root.rglob("*.py")
                  if not any(p.relative_to(root).parts[0] == e for e in exclude))


def all_functions(root: Path = PACKAGE, exclude: tuple[str, ...] = ()) -> list[Function]:
    return [f for p in modules(root, exclude) for f in functions(p, root)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--over", type=int, default=80, help="list functions longer than this (lines)")
    parser.add_argument("--top", type=int, help="list only the N longest functions")
    parser.add_argument("--exclude", nargs="*", default=[], help="top-level subpackages to leave out")
    parser.add_argument("--modules", action="store_true", help="list module line counts instead")
    args = parser.parse_args(argv)
    exclude = tuple(args.exclude)
    if args.modules:
        sizes = [(len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(PACKAGE).as_posix())
                 for p in modules(PACKAGE, exclude)]
        for n, name in sorted(sizes, reverse=True)[: args.top]:
            print(f"{n:6d}  {name}")
        return 0
    found = sorted(all_functions(PACKAGE, exclude), key=lambda f: (-f.length, f.module, f.lineno))
    found = found[: args.top] if args.top else [f for f in found if f.length > args.over]
    for f in found:
        print(f"{f.length:5d} lines  {f.parameters:3d} params  {f.module}:{f.lineno}  {f.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The house rules that import-linter does not see: modules stay small, and no import hides
inside a function (where it would dodge a cycle the contracts in pyproject.toml forbid)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "workflows", "handlers", "forms")
MAX_LINES = 400


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _project_imports_inside_functions(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom):
                names = [inner.module or ""] if not inner.level else ["(relative)"]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            for name in names:
                if name == "(relative)" or name.split(".")[0] in PACKAGES:
                    found.append(f"{path.relative_to(root)}:{inner.lineno} {ast.unparse(inner)}")
    return list(dict.fromkeys(found))  # a nested function is walked with its outer one


def test_no_module_of_the_four_packages_is_over_400_lines():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules()
    }
    assert len(sizes) > 50  # the walk found the code
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_project_import_hides_inside_a_function():
    assert [line for path in _modules() for line in _project_imports_inside_functions(path)] == []


def test_the_import_check_sees_an_import_inside_a_function(tmp_path):
    """The control: the walk above does find such an import."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\n\ndef f():\n    from workflows import engine\n    return os\n")
    assert _project_imports_inside_functions(sample, tmp_path) == [
        "sample.py:5 from workflows import engine"
    ]

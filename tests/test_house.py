"""The house rules for tests: no test module imports another test module or a conftest.

Shared data builders live in tests/factories.py, the live server in tests/live.py, fixtures in a
conftest.py (pytest finds them; nobody imports them) and browser helpers in tests/e2e/browsing.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _module_name(path: Path) -> str:
    """The dotted name a file under tests/ is imported by (tests/e2e/x.py is tests.e2e.x)."""
    return ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts))


def _is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def _absolute(node: ast.ImportFrom, here: str) -> str:
    """The module an import-from names, with a relative import resolved against `here`."""
    if not node.level:
        return node.module or ""
    package = here.split(".")[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def imported_test_modules(source: str, here: str) -> list[str]:
    """The test modules and conftests that `source` (the module `here`) imports, anywhere in it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, here)
            if _is_test_module(module):
                found.append(module)
            else:
                found += [
                    f"{module}.{a.name}"
                    for a in node.names
                    if _is_test_module(f"{module}.{a.name}")
                ]
        elif isinstance(node, ast.Call) and _names_a_loader(node.func):
            # importlib.import_module("tests.test_x") or __import__("tests.conftest")
            found += [name for name in _strings(node.args[:1]) if _is_test_module(name)]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets
        ):
            found += [name for name in _strings([node.value]) if _is_test_module(name)]
    return found


def _names_a_loader(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"import_module", "__import__"}


def _strings(nodes: list[ast.expr]) -> list[str]:
    """The string constants in these expressions (a plain string, or a list or tuple of them)."""
    found = []
    for node in nodes:
        parts = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        found += [
            p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)
        ]
    return found


def test_the_check_sees_every_way_of_importing_a_test_module():
    # spelled with {t} so that a grep for such imports finds none in this file
    source = """
import {t}.test_plans
from {t}.conftest import login
from {t}.e2e.conftest import Server
from {t} import test_records
from .test_backup import rows
from . import conftest
def inside():
    from {t}.domain.test_rules import case
import {t}.factories
from {t}.e2e.browsing import sign_in
from {t}.live import Browser
from prescriptions.domain import rules
pytest_plugins = ["{t}.test_backup", "{t}.fuzzing"]
plans = importlib.import_module("{t}.test_plans")
live = importlib.import_module("{t}.live")
""".format(t="tests")
    assert imported_test_modules(source, "tests.e2e.test_e2e_day") == [
        "tests.test_plans",
        "tests.conftest",
        "tests.e2e.conftest",
        "tests.test_records",
        "tests.e2e.test_backup",
        "tests.e2e.conftest",
        "tests.test_backup",
        "tests.domain.test_rules",
        "tests.test_plans",
    ]


def test_no_test_module_imports_another_test_module_or_a_conftest():
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imported_test_modules(path.read_text(), _module_name(path)))
    }
    assert offenders == {}, "import these from factories.py, live.py or e2e/browsing.py instead"

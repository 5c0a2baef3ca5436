"""Every public function of the compute modules has a numpydoc docstring, and every reading has doctests."""

from __future__ import annotations

import ast

from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent
#: The modules that compute (the pages and the command line are documented by what they show).
COMPUTE = ("distress/indicators.py", "distress/report.py", "distress/views.py", "composite/index.py",
           "services/supply.py", "network/metrics.py", "survey/scores.py", "privacy.py", "territory.py",
           "inputs/validation.py", "inputs/workspace.py", "inputs/readers.py", "inputs/starter.py",
           "plan/followup.py", "plan/rooms.py", "report/contract.py")
SECTIONS = ("Parameters\n", "Returns\n", "Examples\n")
READINGS = ("distress", "composite", "services", "network", "survey", "plan")


def _public_functions(module: str) -> list[ast.FunctionDef]:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


@pytest.mark.parametrize("module", COMPUTE)
def test_public_functions_have_numpydoc_docstrings(module):
    missing = [f.name for f in _public_functions(module)
               if not any(s in (ast.get_docstring(f) or "") for s in SECTIONS)]
    assert missing == [], f"{module}: {missing}"


@pytest.mark.parametrize("reading", READINGS)
def test_each_reading_has_a_doctest(reading):
    docs = [ast.get_docstring(f) or "" for m in COMPUTE if m.startswith(reading) for f in _public_functions(m)]
    assert any(">>>" in d for d in docs), reading

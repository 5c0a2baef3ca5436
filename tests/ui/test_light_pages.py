"""Every dashboard imports only the page kit, the report contract and its reading's light modules: no pandas."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.paths import NOTEBOOKS

HEAVY = ("pandas", "numpy", "altair", "networkx", "pyvis", "papermill", "scipy", "pyarrow", "openpyxl")
DASHBOARDS = sorted((NOTEBOOKS / "cruscotti").glob("*.ipynb"))


def _imports(notebook) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lines = [line for c in cells if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()
             if line.startswith(("from ", "import "))]
    return "\n".join(lines)


def test_every_dashboard_is_checked():
    assert len(DASHBOARDS) >= 11 and all(_imports(d) for d in DASHBOARDS)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda p: p.stem)
def test_a_dashboard_imports_no_heavy_module(dashboard):
    code = _imports(dashboard) + f"\nimport sys\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", (dashboard.name, out.stdout)

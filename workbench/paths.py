"""The one place that defines where the project's files are.

In a source checkout (or an editable install) the notebooks, data and templates are the repository's
top-level folders. A wheel ships them inside the package, under ``workbench/_risorse`` (see
``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``), found with :mod:`importlib.resources`.
Nothing is ever written there: caches go to :data:`CACHE`.
"""

import os
from importlib.resources import files
from pathlib import Path

_SHIPPED = Path(str(files("workbench") / "_risorse"))
#: True when running from an installed wheel (resources inside the package, read-only).
INSTALLED = _SHIPPED.is_dir()
ROOT = _SHIPPED if INSTALLED else Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
REFERENCE = DATA / "reference"
DEMO = DATA / "demo"
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = ROOT / "templates"
#: The user's cache (vega bundle, the Voila template with it): never inside the installed package.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "welfare-workbench"

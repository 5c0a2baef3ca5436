"""The one place that defines where the project's files are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
REFERENCE = DATA / "reference"
DEMO = DATA / "demo"
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = ROOT / "templates"

"""Welfare workbench: data tools for the Italian Piani di Zona.

Kept import-light on purpose: dashboards import single modules
(``workbench.distress.page``), never the whole library.
"""

import sys

__version__ = "0.1.0"

# jsonschema (imported by altair, papermill and nbformat) imports the optional ``rfc3987_syntax``,
# which builds ~35 Lark parsers at import: about 3-6 s per process here (jsonschema#1428). We never
# validate IRI formats, so the module is marked absent and jsonschema skips that format check.
sys.modules.setdefault("rfc3987_syntax", None)

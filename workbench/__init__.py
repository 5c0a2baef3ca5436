"""Welfare workbench: data tools for the Italian Piani di Zona.

Kept import-light on purpose: dashboards import single modules
(``workbench.dashboard``), never the whole library.
"""

__version__ = "0.1.0"

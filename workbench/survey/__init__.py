"""The partners' survey: external exports converted into ``legami``, and waves answered inside the workbench.

Modules: :mod:`~workbench.survey.imports` (an external form's export into ``legami``), :mod:`.store` (the
answers of one wave, many writers), :mod:`.wave` (open, follow and close a wave), :mod:`.page` (the
respondent's and the facilitator's Voila pages), :mod:`.scores` (PARTNER-style trust and value),
:mod:`.profile` (one actor's printable profile), :mod:`.trust_page` (the ``fiducia`` dashboard) and :mod:`.cli`
(``workbench questionario …``).

Light on purpose: the names of :mod:`.imports` are re-exported lazily, so that the respondent's page
(which imports :mod:`.store` and :mod:`.page`) does not pull pandas in.
"""

from __future__ import annotations

__all__ = ["SurveyResult", "survey_to_legami", "read_survey", "COLUMNS"]


def __getattr__(name: str):
    """``workbench.survey.survey_to_legami`` and the other names of :mod:`.imports`, imported on first use."""
    if name in __all__:
        from workbench.survey import imports

        return getattr(imports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

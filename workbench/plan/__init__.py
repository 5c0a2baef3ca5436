"""From the workshops to the plan: several workshops per plan, the document of new hypotheses, actions and
their follow-up, the next plan cycle.

Modules: :mod:`~workbench.plan.store` (the plan's SQLite store: workshops, actions, history),
:mod:`~workbench.plan.rooms` (the workshops of a plan read together, differences between rooms),
:mod:`~workbench.plan.document` (the .docx, HTML and Markdown document), :mod:`~workbench.plan.followup`
(actions by family, status and owner; indicators before and after), :mod:`~workbench.plan.cycle` (the
previous plan cycle), :mod:`~workbench.plan.setup` (what ``workbench esegui`` prepares for the pages),
:mod:`~workbench.plan.page` (Voila pages), :mod:`~workbench.plan.cli` (``workbench piano``).

Kept empty on purpose: the Voila pages import only the light modules they need.
"""

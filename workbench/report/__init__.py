"""What a run hands to the dashboards: the report contract (file names, the district header, read and write:
:mod:`.contract`), the report folder's manifest (:mod:`.manifest`) and the notebooks' helpers (:mod:`.notebook`).

Light: the pages import :mod:`.contract` and :mod:`.manifest`, never pandas.
"""

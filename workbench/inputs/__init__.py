"""What a district hands in: the contract of its tables (:mod:`.contract`), readers of CSV and Excel files
(:mod:`.readers`), lazy validation (:mod:`.validation`), the workspace loaded and validated in one place
(:mod:`.workspace`), the Excel templates generated from the contract (:mod:`.templates`) and ``workbench nuovo``
(:mod:`.starter`).
"""

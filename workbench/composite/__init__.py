"""Reading 1b, the composite distress index (notebook 01): AMPI+, percentile ranks, z-scores and sensitivity
(:mod:`.index`), its charts (:mod:`.charts`) and its page (:mod:`.page`).
"""

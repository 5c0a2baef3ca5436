"""Reading 3, the network of actors (notebook 03): cohesion, brokers, cross-sector ties, roles and change
(:mod:`.metrics`), the pyvis graph (:mod:`.graph`), its charts (:mod:`.charts`) and its page (:mod:`.page`).
"""

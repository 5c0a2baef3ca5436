"""Reading 2, the supply of services (notebook 02): spending and users by area of need, against need, provider
mix (:mod:`.supply`), its charts (:mod:`.charts`) and its page (:mod:`.page`).
"""

"""The mixed workshop (notebook 04): its store of notes, votes and ratings (:mod:`.store`), their HTML
(:mod:`.html`), the participant and facilitator pages (:mod:`.page`) and the export (:mod:`.export`).
"""

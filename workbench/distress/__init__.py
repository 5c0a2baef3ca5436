"""Reading 1, social distress by comune (notebook 01): indicators, intervals and trends (:mod:`.indicators`),
the report (:mod:`.report`), its charts (:mod:`.charts`), the data of one view (:mod:`.views`) and the page
(:mod:`.page`).
"""

"""The page kit shared by every dashboard: the stylesheet (:mod:`.style`), report opening, filters and live views
(:mod:`.page`), escaped tables (:mod:`.tables`), offline Vega-Lite (:mod:`.render`), charts readable on a phone
(:mod:`.chartstyle`) and writes applied once (:mod:`.saving`).

Light: no pandas, no Altair (Altair charts are only turned into specifications by :func:`.chartstyle.spec`).
"""

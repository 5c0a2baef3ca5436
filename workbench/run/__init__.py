"""Running and serving: the district run with papermill (:mod:`.runner`, its kernel :mod:`.kernel`, its
parameters :mod:`.params`), many districts (:mod:`.batch`), the static site (:mod:`.site`), the dashboards'
server (:mod:`.serve`, :mod:`.voila_app`) and JupyterLab (:mod:`.lab`).
"""

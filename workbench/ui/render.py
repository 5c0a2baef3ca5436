"""Offline display of Vega-Lite charts and HTML documents in JupyterLab, Voila and HTML exports.

The vega + vega-lite + vega-embed bundle (from ``vl-convert-python``, no network)
is emitted once per page by :func:`vega_loader`; each chart is then a small
``<div>`` plus a ``<script>`` calling ``window.vegaEmbed`` with the Italian
number locale. Nothing is requested from the internet.
"""

from __future__ import annotations

import copy
import html
import json
import os
import uuid
from functools import lru_cache
from pathlib import Path

__all__ = ["vega_loader", "install_bundle", "chart_html", "with_data", "iframe_html", "bundle_path", "STATIC_ENV"]

#: Set by ``workbench mostra``: the page template already loads the bundle.
STATIC_ENV = "WORKBENCH_VEGA_STATIC"
# d3-format locale for it-IT (as vl_convert.get_format_locale("it-IT") returns it).
ITALIAN = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["€", ""]}


def bundle_path() -> Path:
    """Where the JavaScript bundle is cached (built once per installed vl-convert version)."""
    import importlib.metadata as md

    from workbench.paths import CACHE

    return CACHE / f"vega-bundle-{md.version('vl-convert-python')}.js"


@lru_cache(maxsize=1)
def _bundle() -> str:
    path = bundle_path()
    if not path.exists():
        import vl_convert

        # The bundle declares top-level consts: guard it so a second copy on the page is harmless.
        js = "if(!window.vegaEmbed){(function(){\n" + vl_convert.javascript_bundle() + "\n})();}"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(js.replace("</script", "<\\/script"), encoding="utf-8")
        tmp.replace(path)
    return path.read_text(encoding="utf-8")


def vega_loader() -> str:
    """HTML that defines ``window.vegaEmbed`` (about 0.9 MB, to be shown once per page).

    Empty under ``workbench mostra``, whose Voila template already serves the bundle as a static file.
    """
    if os.environ.get(STATIC_ENV):
        return ""
    return f'<script type="text/javascript">{_bundle()}</script>'


def install_bundle(static_dir: Path) -> Path:
    """Copy the bundle into a Voila template's ``static`` folder (done by ``workbench mostra``)."""
    target = static_dir / "vega-bundle.js"
    if not target.exists() or target.stat().st_size != len(_bundle().encode("utf-8")):
        static_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(_bundle(), encoding="utf-8")
    return target


def with_data(spec: dict, **datasets) -> dict:
    """A copy of a chart specification with its named datasets filled."""
    out = copy.deepcopy(spec)
    out["datasets"] = {**out.get("datasets", {}), **datasets}
    return out


def chart_html(spec: dict, height: int | None = None) -> str:
    """A chart as a small HTML snippet that waits for ``vegaEmbed`` and draws with Italian numbers."""
    div = "wb-chart-" + uuid.uuid4().hex[:12]
    payload = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    options = json.dumps({"actions": False, "renderer": "svg", "formatLocale": ITALIAN})
    style = f' style="min-height:{height}px"' if height else ""
    return (f'<div id="{div}" class="wb-chart"{style}></div><script type="text/javascript">'
            "(function(){var n=0;function go(){"
            f'var el=document.getElementById("{div}");'
            f"if(window.vegaEmbed&&el){{vegaEmbed(el,{payload},{options})"
            '.catch(function(e){el.textContent="Grafico non disponibile: "+e.message;});}'
            "else if(n++<400){setTimeout(go,50);}"
            'else if(el){el.textContent="Grafico non disponibile: libreria non caricata.";}}'
            "go();})();</script>")


def iframe_html(document: str, height: int = 600, title: str = "") -> str:
    """A full HTML document isolated in an ``<iframe srcdoc>`` (used for the network view)."""
    return (f'<div class="wb-frame"><iframe title="{html.escape(title)}" srcdoc="{html.escape(document, quote=True)}" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe></div>')

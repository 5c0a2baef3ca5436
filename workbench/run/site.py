"""Static report site: ``REPORTS/index.html`` listing every district, browsable from disk, shareable as a zip.

The index links each district's HTML reports (``<district>/report/*.html``, exported without code and
without external resources) with relative links, so it opens from a folder or an unzipped archive with no
server. The Voila dashboards need a running server (``workbench mostra REPORTS``): the index lists their
addresses on that server.
"""

from __future__ import annotations

import datetime as dt
import html
import zipfile
from pathlib import Path
from urllib.parse import quote

from workbench.errors import WorkbenchError, writing
from workbench.report.manifest import DONE, read_manifest
from workbench.run.serve import RESERVED, notebook_title
from workbench.fmt import italian_date, plural

__all__ = ["districts", "build_site", "zip_site"]

INDEX = "index.html"
VOILA_PORT = 8866

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1f2933;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}p.sub{color:#52606d;margin-top:0}
section{border:1px solid #d9e2ec;border-radius:6px;padding:.8rem 1.2rem;margin:1rem 0}
h2{font-size:1.2rem;margin:.2rem 0}.meta{color:#616e7c;font-size:.9rem}
ul{margin:.3rem 0 .6rem}code{background:#f0f4f8;padding:0 .25rem;border-radius:3px}
a{color:#0b69a3}nav a{margin-right:.8rem}
"""


def districts(reports: str | Path) -> list[dict]:
    """The districts of a reports folder: one dict per sub-folder with a ``manifest.json``."""
    reports = Path(reports).resolve()
    if not reports.is_dir():
        raise WorkbenchError(f"La cartella dei report {reports} non esiste.")
    found = []
    for folder in sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = read_manifest(folder)
        if manifest is None:
            continue
        steps = manifest.get("passi", [])
        titles = {s["notebook"]: s.get("titolo", s["notebook"]) for s in steps}
        pages = [(titles.get(p.with_suffix(".ipynb").name, p.stem), p)
                 for p in sorted((folder / "report").glob("*.html"))]
        dashboards = [d for d in sorted((folder / "cruscotti").glob("*.ipynb")) if d.name not in RESERVED]
        unavailable = [s for s in steps if s["stato"] != DONE]
        found.append({"folder": folder, "manifest": manifest, "pages": pages, "dashboards": dashboards,
                      "unavailable": unavailable})
    return found


def _href(path: Path, base: Path) -> str:
    return quote(path.relative_to(base).as_posix())


def _voila_url(dashboard: Path, reports: Path, port: int) -> str:
    from workbench.run.serve import dashboard_root

    rel = dashboard.relative_to(dashboard_root(reports)).as_posix()
    return f"http://127.0.0.1:{port}/voila/render/{quote(rel)}"


def _section(item: dict, reports: Path, port: int) -> str:
    e = html.escape
    m, folder = item["manifest"], item["folder"]
    when = m.get("eseguito", "")
    meta = f"Cartella <code>{e(folder.name)}</code>"
    if when:
        meta += f" · eseguito il {e(italian_date(when) or when)}"
    if m.get("durata_s") is not None:
        meta += f" · {e(str(m['durata_s']))} s"
    if m.get("versione"):
        meta += f" · workbench {e(m['versione'])}"
    pages = "".join(f'<li><a href="{_href(p, reports)}">{e(title)}</a></li>' for title, p in item["pages"])
    boards = "".join(f'<li><a class="voila" href="{_voila_url(d, reports, port)}">{e(notebook_title(d, d.stem))}</a> '
                     f'<span class="meta">({e(_voila_url(d, reports, port))})</span></li>'
                     for d in item["dashboards"])
    missing = "".join(f'<li>{e(s["titolo"])}: <span class="meta">{e(s.get("motivo", ""))} '
                      f'(modelli: {e(", ".join(s.get("modelli", [])))}, in <code>templates/</code> o nella '
                      f'cartella <code>modelli/</code> creata da <code>workbench nuovo</code>)</span></li>'
                      for s in item["unavailable"])
    return (f'<section id="{e(folder.name)}"><h2>{e(m.get("distretto", folder.name))}</h2>'
            f'<p class="meta">{meta}</p>'
            f"<h3>Report (HTML, si aprono senza server)</h3><ul>{pages or '<li>nessun report HTML</li>'}</ul>"
            f"<h3>Cruscotti (con <code>workbench mostra</code> avviato)</h3>"
            f"<ul>{boards or '<li>nessun cruscotto</li>'}</ul>"
            + (f'<h3>Letture non disponibili</h3><ul class="non-disponibili">{missing}</ul>' if missing else "")
            + "</section>")


def build_site(reports: str | Path, port: int = VOILA_PORT) -> Path:
    """Write ``REPORTS/index.html`` and return its path.

    Links to HTML reports are relative (the folder can be moved, zipped, opened from disk); dashboard links
    point to ``workbench mostra REPORTS`` on this computer (port ``port``).
    """
    reports = Path(reports).resolve()
    items = districts(reports)
    if not items:
        raise WorkbenchError(f"In {reports} non c'è alcun report: esegui prima `workbench esegui … --out {reports}`.")
    e = html.escape
    nav = "".join(f'<a href="#{quote(i["folder"].name)}">{e(i["manifest"].get("distretto", i["folder"].name))}</a>'
                  for i in items)
    stamp = dt.datetime.now()
    now = f"{italian_date(stamp.isoformat())} alle {stamp:%H:%M}"
    body = "".join(_section(i, reports, port) for i in items)
    page = (f'<!DOCTYPE html><html lang="it"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Report dei distretti</title><style>{STYLE}</style></head><body>"
            f"<h1>Report dei distretti</h1>"
            f'<p class="sub">{plural(len(items), "distretto", "distretti")} · pagina generata il {now}. I report HTML si aprono '
            f"direttamente da questa cartella, anche senza rete. Per i cruscotti interattivi avvia "
            f"<code>workbench mostra {e(reports.name)}</code> su questo computer.</p>"
            f"<nav>{nav}</nav>{body}</body></html>")
    target = reports / INDEX
    tmp = target.with_suffix(".html.tmp")
    try:
        with writing(reports, "l'indice dei report"):
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def zip_site(reports: str | Path, archive: str | Path) -> Path:
    """Zip the whole site (index, reports, dashboards and their data), paths relative to ``REPORTS``.

    Hidden folders (runs in progress) and notebooks kept after an error are left out.
    """
    reports, archive = Path(reports).resolve(), Path(archive).resolve()
    keep = {INDEX} | {i["folder"].name for i in districts(reports)}
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(archive.name + ".tmp")
    try:
        with writing(archive.parent, "l'archivio del sito"), zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(reports.rglob("*")):
                rel = path.relative_to(reports)
                if (path.is_file() and rel.parts[0] in keep and path != tmp
                        and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts)):
                    z.write(path, Path(reports.name) / rel)
        with writing(archive.parent, "l'archivio del sito"):
            tmp.replace(archive)
    finally:
        tmp.unlink(missing_ok=True)
    return archive

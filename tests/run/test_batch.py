"""Many districts: isolated failures, skipping unchanged inputs, the static report site, Dask."""

from __future__ import annotations

import errno
import io
import json
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest

from workbench.run.batch import DONE, FAILED, SKIPPED, input_hash, run_batch, run_one
from workbench.paths import DEMO
from workbench.run.serve import RESERVED, dashboard_root
from workbench.run.site import build_site, zip_site

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "workbench"]


def casalasco(target: Path) -> Path:
    shutil.copytree(DEMO / "casalasco", target)
    return target


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """`workbench esegui FOLDER` on three districts: one good, one with bad data, one whose notebook fails."""
    root = tmp_path_factory.mktemp("batch")
    folder = root / "distretti"
    casalasco(folder / "buono")
    comuni = casalasco(folder / "dati_errati") / "comuni.csv"
    comuni.write_text(comuni.read_text(encoding="utf-8") + "019999,Nuovo,-5,,,,\n", encoding="utf-8")
    meta = casalasco(folder / "notebook_errato") / "indicatori_meta.csv"
    lines = meta.read_text(encoding="utf-8").splitlines()
    # every indicator without direction: validation passes, the composite index cell of notebook 01 fails
    meta.write_text("\n".join([lines[0]] + [line.replace(",+1,", ",0,").replace(",-1,", ",0,")
                                            for line in lines[1:]]) + "\n", encoding="utf-8")
    reports = root / "report"
    proc = subprocess.run(CLI + ["esegui", str(folder), "--out", str(reports), "--processi", "2"],
                          capture_output=True, text=True, timeout=1800)
    return SimpleNamespace(folder=folder, reports=reports, proc=proc)


def summary_row(stdout: str, district: str) -> str:
    rows = [line for line in stdout.splitlines() if line.startswith(district + " ")]
    assert len(rows) == 1, stdout
    return rows[0]


def test_broken_districts_do_not_stop_the_others(batch):
    out = batch.proc.stdout
    assert batch.proc.returncode == 1, out + batch.proc.stderr
    assert "Traceback" not in out + batch.proc.stderr
    assert "Distretto" in out and "Errore" in out
    assert "completato" in summary_row(out, "buono")
    bad_data = summary_row(out, "dati_errati")
    assert "errore" in bad_data and "comuni.csv" in bad_data and "popolazione" in bad_data
    bad_nb = summary_row(out, "notebook_errato")
    assert "01_disagio.ipynb" in bad_nb and "cella" in bad_nb and "indice composito" in bad_nb
    assert "3 distretti: 1 completato, 0 invariati, 2 con errori" in out
    assert "3/3" in batch.proc.stderr  # the overall progress bar reached the end
    manifest = json.loads((batch.reports / "buono" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["hash_input"] == input_hash(batch.folder / "buono", {})
    assert (batch.reports / "buono" / "report" / "01_disagio.html").is_file()
    assert not (batch.reports / "dati_errati").exists() and not (batch.reports / "notebook_errato").exists()
    assert (batch.reports / "notebook_errato-errore-01_disagio.ipynb").is_file()


def test_rerun_skips_unchanged_districts(batch, tmp_path):
    out = io.StringIO()
    [outcome] = run_batch([batch.folder / "buono"], batch.reports, processes=1, progress=False, out=out)
    assert outcome.status == SKIPPED and "saltato" in out.getvalue()
    # any change of data or parameters changes the hash
    changed = casalasco(tmp_path / "buono")
    assert input_hash(changed) == input_hash(batch.folder / "buono")
    comuni = changed / "comuni.csv"
    comuni.write_text(comuni.read_text(encoding="utf-8").replace(",1159,", ",1160,", 1), encoding="utf-8")
    assert input_hash(changed) != input_hash(batch.folder / "buono")
    assert input_hash(batch.folder / "buono", {"anno": 2022}) != input_hash(batch.folder / "buono")


def test_port_clash_is_retried_once(monkeypatch, tmp_path):
    import zmq

    import workbench.run.runner

    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["input_hash"])
        if len(calls) == 1:
            raise zmq.error.ZMQError(errno.EADDRINUSE)
        return tmp_path

    monkeypatch.setattr(workbench.run.runner, "run_district", flaky)
    outcome = run_one(DEMO / "casalasco", tmp_path, force=True)
    assert outcome.status == DONE and outcome.attempts == 2 and len(calls) == 2

    def broken(*args, **kwargs):
        calls.append(1)
        raise ValueError("colonna sbagliata")

    calls.clear()
    monkeypatch.setattr(workbench.run.runner, "run_district", broken)
    outcome = run_one(DEMO / "casalasco", tmp_path, force=True)
    assert outcome.status == FAILED and len(calls) == 1
    assert outcome.error == "valore non valido: colonna sbagliata"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_report_site_links_all_resolve(batch, tmp_path):
    served = dashboard_root(batch.reports)  # what `workbench mostra REPORTS` serves
    index = build_site(batch.reports)
    assert index == batch.reports / "index.html"
    checked, pages, dashboards = 0, [], []
    root = parse(index)
    for link in root.links:
        url = urlsplit(link)
        if url.scheme == "http":  # dashboard address on `workbench mostra REPORTS`
            assert url.hostname == "127.0.0.1" and url.path.startswith("/voila/render/")
            dashboards.append(served / unquote(url.path.removeprefix("/voila/render/")))
        elif url.path:
            pages.append((index.parent / unquote(url.path)).resolve())
        else:
            assert unquote(url.fragment) in root.ids, link
    assert {p.name for p in dashboards} >= {"disagio.ipynb", "servizi.ipynb", "rete.ipynb"}
    assert all(p.is_file() for p in dashboards)
    assert not {p.name for p in dashboards} & set(RESERVED)  # the facilitator's pages need a key: not listed
    assert ">disagio<" not in index.read_text(encoding="utf-8")  # dashboards by their Italian titles
    assert len(pages) == 4 and all(p.is_file() and batch.reports in p.parents for p in pages)
    for page in pages:  # every link of every report page resolves on disk, nothing external
        parsed = parse(page)
        for link in parsed.links:
            url = urlsplit(link)
            assert not url.scheme.startswith("http") and not link.startswith("//"), (page.name, link)
            if url.scheme == "data":
                continue
            if url.path:
                assert (page.parent / unquote(url.path)).exists(), (page.name, link)
            elif url.fragment:
                # browsers match the fragment as written, then percent-decoded (HTML "indicated part")
                assert {url.fragment, unquote(url.fragment)} & parsed.ids, (page.name, link)
            checked += 1
    assert checked > 0
    archive = zip_site(batch.reports, tmp_path / "sito.zip")
    names = set(zipfile.ZipFile(archive).namelist())
    prefix = batch.reports.name
    assert f"{prefix}/index.html" in names
    assert all(f"{prefix}/{p.relative_to(batch.reports).as_posix()}" in names for p in pages)
    assert not any("errore" in n or "/." in n for n in names)


def test_dask_local_cluster_runs_two_districts_and_forza_reruns(batch, tmp_path):
    before = (batch.reports / "buono" / "manifest.json").read_text(encoding="utf-8")
    second = casalasco(tmp_path / "secondo")
    out = io.StringIO()
    outcomes = run_batch([batch.folder / "buono", second], batch.reports, force=True, processes=2,
                         dask="locale", progress=False, out=out)
    assert [o.status for o in outcomes] == [DONE, DONE], out.getvalue()
    assert "Dask (locale)" in out.getvalue()
    assert (batch.reports / "buono" / "manifest.json").read_text(encoding="utf-8") != before  # --forza
    manifest = json.loads((batch.reports / "secondo" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["hash_input"] == input_hash(second)

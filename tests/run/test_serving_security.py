"""Serving safely (issue 15, items 1-3) and the Italian server pages of ``workbench mostra`` (issue 18).

Servers: ``voila_url`` (conftest: the demo district, local mode), ``multi_url`` (a reports folder with two
districts, one of them with a reading «non disponibile», a run in progress, an error folder and a stray
notebook) and ``lan_url`` (the demo district on the room's network, with a token).
"""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from workbench.report.contract import SCHEMA
from workbench.report.manifest import OUTDATED, read_manifest, write_manifest
from workbench.run.serve import (Card, allowed_hosts, dashboard_paths, dashboard_root, served_districts, voila_command,
                             voila_env)

from tests.conftest import CHROMIUM, FACILITATOR_KEY, free_port, wait_http

pytestmark = pytest.mark.slow

CANARY = "canary.txt"
PAYLOADS = (
    "x\"><script>window.__pwned=1;document.title='PWNED'</script>",
    "'><img src=x onerror=\"window.__pwned=1;document.title='PWNED'\">",
    "</script><script>window.__pwned=1;document.title='PWNED'</script>",
    "javascript:window.__pwned=1;document.title='PWNED'",
    "http://cdn.example.org/x.js",
)
# Every query parameter read by Voila 0.5 or by jupyter_server's handlers it uses, and our own key.
PARAMETERS = ("theme", "template", "classic-tree", "token", "next", "format", "content", "chiave", "x")


def _start(root: Path, port: int, lan: bool = False, token: str | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(voila_command(root, port, lan), env=voila_env(token, FACILITATOR_KEY),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/" + (f"?token={token}" if token else ""))
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def tree_hash(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _canary_notebook(path: Path) -> None:
    """A notebook that writes a file next to itself if it is ever executed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    code = f"open({CANARY!r}, 'w').write('eseguito')"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                                           "outputs": [], "source": code}],
                                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


@pytest.fixture(scope="module")
def multi_reports(demo_reports, tmp_path_factory) -> Path:
    """Two districts: ``cremasco`` as run and ``secondo`` (the services reading is
    «non disponibile», its dashboard not copied; the network dashboard fails), plus what must never render."""
    reports = tmp_path_factory.mktemp("multi") / "report"
    shutil.copytree(demo_reports / "cremasco", reports / "cremasco")
    shutil.copytree(demo_reports / "cremasco", reports / "secondo")
    second = reports / "secondo"
    manifest = read_manifest(second)
    manifest["distretto"] = "Ambito Secondo <b>di prova</b>"
    services = next(s for s in manifest["passi"] if s["notebook"] == "02_servizi.ipynb")
    services.update(stato="non disponibile", motivo="Manca la tabella dei servizi (spesa e utenti).",
                    modelli=["servizi"])
    write_manifest(second, manifest)
    (second / "cruscotti" / "servizi.ipynb").unlink()
    broken = json.loads((second / "cruscotti" / "rete.ipynb").read_text(encoding="utf-8"))
    broken["cells"][-1]["source"] = "raise FileNotFoundError('rete.json')"  # a dashboard whose cell fails
    (second / "cruscotti" / "rete.ipynb").write_text(json.dumps(broken), encoding="utf-8")
    _canary_notebook(reports / ".terzo-x1y2z3" / "cruscotti" / "disagio.ipynb")  # a run in progress
    _canary_notebook(reports / "terzo-errore-01_disagio.ipynb" / "01_disagio.ipynb")
    _canary_notebook(reports / "cremasco" / "cruscotti" / "extra.ipynb")  # not listed in the manifest
    _canary_notebook(reports / "cremasco" / "report" / "canarino.ipynb")
    return reports


@pytest.fixture(scope="module")
def multi_url(multi_reports):
    port = free_port()
    proc = _start(dashboard_root(multi_reports), port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


LAN_TOKEN = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def lan_url(demo_reports):
    port = free_port()
    proc = _start(dashboard_root(demo_reports), port, lan=True, token=LAN_TOKEN)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


def get(url: str, host: str | None = None, opener=None) -> tuple[int, str]:
    """Status and body of a GET (redirects not followed when ``opener`` is None)."""
    parts = urlsplit(url)
    if opener is not None:
        try:
            with opener.open(url, timeout=120) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                 headers={"Host": host or parts.netloc})
    r = conn.getresponse()
    return r.status, r.read().decode("utf-8", "replace")


# -- only dashboards render ------------------------------------------------------------------------

def test_served_districts_come_from_the_manifests(multi_reports):
    root = dashboard_root(multi_reports)
    districts = {d.name: d for d in served_districts(root)}
    assert set(districts) == {"Ambito Cremasco", "Ambito Secondo <b>di prova</b>"}
    first, second = districts["Ambito Cremasco"], districts["Ambito Secondo <b>di prova</b>"]
    assert {c.path for c in first.cards if c.path} == {f"cremasco/cruscotti/{n}.ipynb"
                                                       for n in ("disagio", "indice", "servizi", "rete", "fiducia",
                                                                 "piano", "monitoraggio")}
    assert [(c.title, c.room) for c in first.cards if c.room] == [("Laboratorio", "cremasco")]  # the light page
    assert first.reserved == ("cremasco/cruscotti/facilitatore.ipynb", "cremasco/cruscotti/azioni.ipynb")
    assert first.date and first.date[0].isdigit() and "20" in first.date  # «1 dicembre 2026»
    off = [c for c in second.cards if c.path is None and not c.room]
    assert [(c.title, c.reason, c.templates) for c in off] == [
        ("I servizi e la spesa sociale", "Manca la tabella dei servizi (spesa e utenti).", ("servizi",))]
    assert "Mappa del disagio sociale" in {c.title for c in first.cards}  # the dashboard's own title
    assert not any("report/" in p or "extra" in p or "terzo" in p
                   for p in dashboard_paths(list(districts.values())))


def test_a_tampered_manifest_cannot_point_outside_the_dashboards(multi_reports, tmp_path):
    reports = tmp_path / "report"
    shutil.copytree(multi_reports / "cremasco", reports / "uno", ignore=shutil.ignore_patterns("*.json"))
    for name in ("due", "tre", "quattro", "vecchio"):
        shutil.copytree(reports / "uno", reports / name)
    manifest = {"distretto": "Uno", "schema": SCHEMA, "passi": [{"notebook": "01_disagio.ipynb", "titolo": "x", "cruscotti": [
        "../report/01_disagio.ipynb", "/etc/passwd.ipynb", "..", ".ipynb", "disagio.ipynb"]}]}
    (reports / "uno" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (reports / "due" / "manifest.json").write_text("{non è json", encoding="utf-8")
    (reports / "tre" / "manifest.json").write_text(json.dumps({"schema": SCHEMA, "passi": ["non un passo"]}), encoding="utf-8")
    (reports / "quattro" / "manifest.json").write_text(json.dumps({"schema": SCHEMA, "passi": [{"cruscotti": "disagio.ipynb"}]}),
                                                       encoding="utf-8")
    old = {"passi": [{"notebook": "01_disagio.ipynb", "cruscotto": "indice.ipynb", "titolo": "Indice"}]}
    (reports / "vecchio" / "manifest.json").write_text(json.dumps(old), encoding="utf-8")  # an older workbench's
    served = served_districts(reports)
    assert dashboard_paths(served) == {"uno/cruscotti/disagio.ipynb"}
    assert [c for d in served for c in d.cards if c.reason == OUTDATED] == [Card("Report da aggiornare", None, OUTDATED)]


def test_served_districts_follow_a_new_run(multi_reports, tmp_path):
    reports = tmp_path / "report"
    shutil.copytree(multi_reports / "secondo", reports / "uno")
    assert [d.name for d in served_districts(reports)] == ["Ambito Secondo <b>di prova</b>"]
    manifest = read_manifest(reports / "uno")
    manifest["distretto"] = "Ambito Uno"
    write_manifest(reports / "uno", manifest)
    (reports / "uno" / "cruscotti" / "indice.ipynb").unlink()
    (district,) = served_districts(reports)
    assert district.name == "Ambito Uno" and "uno/cruscotti/indice.ipynb" not in dashboard_paths([district])


def _variants(rel: str) -> list[str]:
    quoted = quote(rel, safe="")
    return [quote(rel), f"./{quote(rel)}", quoted, quoted.replace(".", "%2e"), f"{quote(rel)}/", f"/{quote(rel)}",
            quote(rel).replace("/", "//"), quote(rel).upper(), quote(rel).replace("/", "%5C")]


def test_analysis_notebook_is_not_rerun_from_a_url(multi_url, multi_reports):
    before = tree_hash(multi_reports)
    root = dashboard_root(multi_reports)
    served = dashboard_paths(served_districts(root))
    others = [p.relative_to(root).as_posix() for p in multi_reports.rglob("*.ipynb")
              if p.relative_to(root).as_posix() not in served]
    assert "cremasco/report/01_disagio.ipynb" in others and len(others) >= 11
    for rel in others:
        for variant in _variants(rel):
            for prefix in ("voila/render/", "voila/files/", "voila/tree/", "voila/api/contents/", "voila/"):
                code, body = get(multi_url + prefix + variant)
                assert code in (403, 404), (prefix + variant, code)
                assert '"cells"' not in body and "nbformat" not in body
    code, _ = get(multi_url + "voila/render/cremasco/cruscotti/disagio.ipynb")  # a dashboard still renders
    assert code == 200
    time.sleep(2)  # anything started in the background would have written by now
    assert tree_hash(multi_reports) == before
    assert not list(multi_reports.rglob(CANARY))


def test_many_districts_are_served_without_preheated_kernels(multi_reports, demo_reports, monkeypatch):
    from workbench.run import serve

    commands = []
    monkeypatch.setattr(serve, "run_until_stopped", lambda command, env: commands.append(command) or 0)
    serve.serve_dashboards(multi_reports, preheat=1)
    serve.serve_dashboards(demo_reports, preheat=1)
    assert not any(a.startswith("--preheat_kernel") for a in commands[0])  # would preheat 2 × 5 kernels
    assert "--preheat_kernel=True" in commands[1]


# -- Host header -------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8866", "127.0.0.1.evil.example", "localhost.evil",
                                  "10.255.255.254", "[::1]x", "xn--80ak6aa92e.com"])
@pytest.mark.parametrize("path", ["", "voila/render/disagio.ipynb", "voila/static/voila.js", "api/kernels/"
                                  "00000000-0000-0000-0000-000000000000", "login", "non-esiste"])
def test_wrong_host_is_refused(voila_url, host, path):
    code, body = get(voila_url + path, host=host)
    assert code == 403 and "Accesso non consentito" in body


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_local_host_names_are_served(voila_url, host):
    port = urlsplit(voila_url).port
    code, body = get(voila_url, host=f"{host}:{port}")
    assert code == 200 and "Cruscotti per gli amministratori" in body


def test_lan_answers_to_this_machine_only(lan_url):
    port = urlsplit(lan_url).port
    mine = [h for h in allowed_hosts(True) if h[0].isdigit() and h != "127.0.0.1"]
    for host in mine:
        assert get(f"{lan_url}?token={LAN_TOKEN}", host=f"{host}:{port}")[0] == 200
    assert get(f"{lan_url}?token={LAN_TOKEN}", host=f"10.255.255.254:{port}")[0] == 403
    assert get(f"{lan_url}?token={LAN_TOKEN}", host=f"rebind.example:{port}")[0] == 403


@pytest.mark.browser
def test_dns_rebinding_page_is_refused_in_the_browser(voila_url, playwright):
    """A page of a domain that resolves to 127.0.0.1 (as after DNS rebinding) gets no dashboard."""
    port = urlsplit(voila_url).port
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                           "--host-resolver-rules=MAP rebind.test 127.0.0.1"])
    try:
        page = b.new_page()
        response = page.goto(f"http://rebind.test:{port}/")
        assert response.status == 403 and "Accesso non consentito" in page.inner_text("body")
        response = page.goto(f"http://rebind.test:{port}/voila/render/disagio.ipynb")
        assert response.status == 403
    finally:
        b.close()


# -- the workshop room's page and API -----------------------------------------------------------------

def _room_session(url: str, opener) -> str:
    """Open the room's page with ``opener`` (its cookies kept): the page's XSRF code."""
    code, body = get(url, opener=opener)
    assert code == 200, code
    return re.search(r'name="wb-xsrf" content="([^"]+)"', body).group(1)


def _post(url: str, body: bytes, opener, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_room_api_needs_the_room_token_the_page_xsrf_code_and_this_host(lan_url):
    room, api = f"{lan_url}sala/cremasco/", f"{lan_url}sala/cremasco/api/"
    stranger = _session()
    for url in (room, api + "stato"):
        code, body = get(url, opener=stranger)
        assert code in (302, 403) and "Traceback" not in body, url  # the page goes to the login, the API refuses
    code, body = _post(api + "entra", b'{"nome": "Intruso", "ruolo": "altro"}', stranger)
    assert code == 403 and "Accesso non consentito" in body["errore"]
    participant = _session()
    xsrf = _room_session(f"{room}?token={LAN_TOKEN}", participant)
    code, body = _post(api + "entra", b'{"nome": "Anna", "ruolo": "tecnico"}', participant)  # no XSRF code
    assert code == 403 and "ricarica la pagina" in body["errore"]
    code, body = _post(api + "entra", b'{"nome": "Anna", "ruolo": "tecnico"}', participant, {"X-XSRFToken": "2|x|y|1"})
    assert code == 403
    code, body = _post(api + "entra", b'{"nome": "Anna", "ruolo": "tecnico"}', participant, {"X-XSRFToken": xsrf})
    assert code == 200 and body["messaggio"] == "Partecipi come Anna (tecnico)" and len(body["token"]) >= 22
    port = urlsplit(lan_url).port
    for host in ("evil.example", f"rebind.example:{port}", f"10.255.255.254:{port}"):
        code, body = get(f"{api}stato?token={LAN_TOKEN}", host=host)
        assert code == 403 and "Accesso non consentito" in body


def test_room_api_answers_italian_json_never_a_traceback(voila_url, browser):
    opener = _session()
    xsrf = {"X-XSRFToken": _room_session(f"{voila_url}sala/cremasco/", opener)}
    api = f"{voila_url}sala/cremasco/api/"
    for body, status, message in ((b"{non json", 400, "non leggibile"), (b"[]", 400, "non leggibile"),
                                  (b'{"testo": "' + b"a" * 20000 + b'"}', 400, "troppo grande"),
                                  (b'{"tipo": "proposta", "testo": "x"}', 400, "premi «Entra»")):
        code, reply = _post(api + "nota", body, opener, xsrf)
        assert (code, list(reply)) == (status, ["errore"]) and message in reply["errore"], body[:20]
    code, reply = _post(api + "nota", b"{}", opener, {**xsrf, "X-Partecipante": "<script>"})
    assert code == 400 and "Identificativo del partecipante non valido" in reply["errore"]


@pytest.mark.parametrize("path", ["sala/", "sala/cremasco", "sala/cremasco/api/", "sala/cremasco/api/stato/",
                                  "sala/cremasco/api/STATO", "sala/cremasco/api/oscura", "sala/altro/",
                                  "sala/..%2Fcremasco/", "sala/cremasco%2Fcruscotti/", "sala/cruscotti/",
                                  "sala/cremasco/laboratorio.json", "sala/cremasco/api/../../../voila/render/x.ipynb",
                                  "voila/render/laboratorio.ipynb", "voila/render/cremasco/cruscotti/laboratorio.ipynb"])
def test_only_the_room_page_and_its_api_are_added(voila_url, path):
    code, body = get(voila_url + path)
    assert code in (403, 404), path
    assert "Traceback" not in body and '"cells"' not in body and "archivio" not in body


# -- the facilitator's key -------------------------------------------------------------------------

def _session():
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def test_facilitator_page_refuses_participant_token(lan_url):
    participant = _session()
    code, body = get(f"{lan_url}?token={LAN_TOKEN}", opener=participant)
    assert code == 200 and "Laboratorio" in body and "facilitatore" not in body.lower()
    page = f"{lan_url}voila/render/facilitatore.ipynb"
    for query in (f"?token={LAN_TOKEN}", f"?token={LAN_TOKEN}&chiave={LAN_TOKEN}", "?chiave=", "?chiave=x",
                  f"?chiave={FACILITATOR_KEY[:-1]}", f"?chiave={FACILITATOR_KEY}x",
                  f"?chiave={FACILITATOR_KEY.upper()}"):
        code, body = get(page + query, opener=participant)  # the participant's cookie is sent too
        assert code == 403 and "riservata a chi conduce il laboratorio" in body, query
    code, _ = get(f"{page}?chiave={FACILITATOR_KEY}", opener=_session())  # the key alone is not the room's token
    assert code in (302, 403)
    code, body = get(f"{page}?token={LAN_TOKEN}&chiave={FACILITATOR_KEY}", opener=_session())
    assert code == 200 and "Laboratorio: vista del facilitatore" in body


def test_facilitator_page_needs_its_key_in_local_mode_too(voila_url, facilitator_key):
    assert get(voila_url + "voila/render/facilitatore.ipynb")[0] == 403
    assert get(voila_url + f"voila/render/facilitatore.ipynb?chiave={facilitator_key}")[0] == 200


def test_secrets_are_not_on_the_command_line(lan_url):
    import psutil

    port = str(urlsplit(lan_url).port)
    servers = [p for p in psutil.process_iter(["cmdline"]) if f"--port={port}" in (p.info["cmdline"] or [])]
    assert servers
    assert not any(LAN_TOKEN in a or FACILITATOR_KEY in a for p in servers for a in p.info["cmdline"])


# -- query parameters fuzzed in the browser ----------------------------------------------------------

def _visit(page, url: str) -> None:
    page.goto(url, wait_until="load", timeout=120_000)
    if "/voila/render/" in url:
        page.wait_for_function("() => !document.querySelector('#loading') || "
                               "getComputedStyle(document.querySelector('#loading')).display === 'none'",
                               timeout=120_000)
    page.wait_for_timeout(300)


def _check_unharmed(page, url: str, title: str, dialogs: list) -> None:
    assert page.title() == title, url
    assert page.evaluate("window.__pwned") is None, url
    assert dialogs == [] and page.blocked == [], url


def _fuzz(page, base: str, sep: str) -> None:
    """Every payload in every parameter (a Latin square: URL ``i`` gives parameter ``j`` payload ``i + j``, so
    five URLs cover every pair) and Voila's template and theme names: nothing runs, nothing comes from outside."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _visit(page, base)
    title = page.title()
    assert title and "PWNED" not in title
    n = len(PAYLOADS)
    urls = [base + sep + "&".join(f"{quote(p)}={quote(PAYLOADS[(i + j) % n])}" for j, p in enumerate(PARAMETERS))
            for i in range(n)]
    names = (("lab", "dark"), ("reveal", "JupyterLab Dark"), ("classic", "light"))
    urls += [f"{base}{sep}template={quote(t)}&theme={quote(u)}" for t, u in names]
    for url in urls:
        _visit(page, url)
        _check_unharmed(page, url, title, dialogs)


@pytest.mark.browser
@pytest.mark.parametrize("path", ["", "non-esiste", "voila/render/non-esiste.ipynb"])
def test_query_parameters_cannot_inject_script_in_server_pages(voila_url, page, path):
    _fuzz(page, voila_url + path, "?")


@pytest.mark.browser
def test_query_parameters_cannot_inject_script_in_a_dashboard(voila_url, page):
    _fuzz(page, voila_url + "voila/render/disagio.ipynb", "?")
    assert page.evaluate("document.documentElement.lang") == "it"


@pytest.mark.browser
def test_query_parameters_cannot_inject_script_in_the_login_page(lan_url, page):
    _fuzz(page, lan_url + "login", "?")
    assert "Serve il codice d'accesso" in page.inner_text("body")


# -- Italian pages -----------------------------------------------------------------------------------

ENGLISH = re.compile(r"\b(Voil[aà]|Select items|Not Found|Password|Log in|There was an error|Traceback|Error|"
                     r"Loading|Executing|ipynb)\b", re.IGNORECASE)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)])
def test_landing_page_is_italian_and_lists_an_unavailable_reading_without_a_link(multi_url, multi_reports,
                                                                                 browser, viewport):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="it-IT")
    blocked: list[str] = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(multi_url)
                  else (blocked.append(r.request.url), r.abort()))
    page = context.new_page()
    try:
        page.goto(multi_url)
        assert page.evaluate("document.documentElement.lang") == "it"
        text = page.inner_text("body")
        assert "Cruscotti per gli amministratori" in text and "Ambito Cremasco" in text
        assert "Ambito Secondo <b>di prova</b>" in text  # escaped, shown as typed
        assert not ENGLISH.search(text) and ".json" not in text
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        second = page.locator("section", has_text="Ambito Secondo")
        off = second.locator(".card.off")
        assert off.count() == 1
        assert "I servizi e la spesa sociale" in off.inner_text() and "Non disponibile" in off.inner_text()
        assert "Manca la tabella dei servizi" in off.inner_text() and "servizi" in off.inner_text()
        assert off.locator("a").count() == 0
        assert second.locator("a", has_text="I servizi e la spesa sociale").count() == 0
        assert "Dati elaborati il" in second.inner_text()
        served = dashboard_paths(served_districts(dashboard_root(multi_reports)))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        dashboards = [urllib.request.unquote(h.removeprefix("/voila/render/")) for h in hrefs
                      if h != "/" and not h.startswith("/sala/")]
        assert len(dashboards) == 13  # 7 + 6, no facilitator pages, no unavailable reading
        assert [h for h in hrefs if h.startswith("/sala/")] == ["/sala/cremasco/", "/sala/secondo/"]  # the rooms
        assert all(d in served and "facilitatore" not in d and "azioni" not in d for d in dashboards)
        assert all((dashboard_root(multi_reports) / d).is_file() for d in dashboards)
        assert blocked == []
        first = page.locator("section", has_text="Ambito Cremasco")
        first.get_by_role("link", name="Mappa del disagio sociale").click()
        page.wait_for_selector(".vega-embed svg", timeout=120_000)
        assert page.title() == "Mappa del disagio sociale" and blocked == []
    finally:
        context.close()


@pytest.mark.browser
def test_error_pages_are_italian(multi_url, page):
    response = page.goto(multi_url + "voila/render/cremasco/report/01_disagio.ipynb")
    assert response.status == 404 and page.evaluate("document.documentElement.lang") == "it"
    text = page.inner_text("body")
    assert "Pagina non trovata" in text and not ENGLISH.search(text)
    page.get_by_role("link", name="Torna all'elenco dei cruscotti").click()
    page.wait_for_selector("text=Cruscotti per gli amministratori")
    # a dashboard whose cell fails: an Italian sentence, no traceback, no English
    page.goto(multi_url + "voila/render/secondo/cruscotti/rete.ipynb", timeout=120_000)
    page.wait_for_selector("text=Questa parte del cruscotto non si è potuta mostrare", timeout=120_000)
    text = page.inner_text("body")
    assert "Traceback" not in text and "There was an error" not in text and "FileNotFoundError" not in text
    assert page.blocked == []


# -- the server's process: busy port, signals --------------------------------------------------------

def _mostra(reports: Path, port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench", "mostra", str(reports), "--porta", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_busy_port_gets_an_italian_message_and_no_address(demo_reports):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _mostra(demo_reports, port)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"La porta {port} è già occupata" in err and f"--porta {port + 1}" in err
    assert "http://" not in out + err and "Apri nel browser" not in out
    assert "CRITICAL" not in err and "Traceback" not in err


def _wait_listening(proc: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    deadline = time.time() + timeout
    for line in proc.stdout:
        if marker in line:
            return line
        assert time.time() < deadline, "server not started"
    raise AssertionError(f"server ended: {proc.stderr.read()}")


def _assert_all_gone(processes, timeout: float = 40) -> None:
    import psutil

    gone, alive = psutil.wait_procs(processes, timeout=timeout)
    assert alive == [], [p.info if hasattr(p, "info") else p.pid for p in alive]


@pytest.mark.parametrize(("signum", "preheat"), [(signal.SIGTERM, "1"), (signal.SIGINT, "0")])
def test_signal_to_mostra_stops_the_server_and_its_kernels(demo_reports, signum, preheat):
    import psutil

    port = free_port()
    proc = _mostra(demo_reports, port, "--preriscalda", preheat)
    try:
        line = _wait_listening(proc, "Apri nel browser:")
        assert f"http://127.0.0.1:{port}/" in line
        assert get(f"http://127.0.0.1:{port}/voila/render/indice.ipynb")[0] == 200  # starts a kernel
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2  # the server and the dashboard's kernel
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0
        _assert_all_gone(children)
        assert "Traceback" not in proc.stderr.read()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # the port is free again
    finally:
        if proc.poll() is None:
            proc.kill()


def test_make_demo_chooses_the_port():
    from workbench.paths import ROOT

    out = subprocess.run(["make", "-n", "-C", str(ROOT), "demo", "PORTA=8931"], capture_output=True, text=True,
                         check=True).stdout
    assert any("workbench mostra" in line and line.endswith("--porta 8931") for line in out.splitlines())

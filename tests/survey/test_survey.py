"""The partners' survey in waves (issue 16): answers store, waves, pages, scores and profiles."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import write_at_once
from workbench.survey.store import CLOSED, AnswerStore, SurveyError, new_id
from workbench.survey.wave import private_folder

WRITERS, ANSWERS_EACH = 50, 20


# -- concurrency -----------------------------------------------------------------------------------

def _writer(path: str, code: str) -> None:
    store = AnswerStore(path)
    for i in range(ANSWERS_EACH):
        op = f"{code}-{i:02d}"
        store.answer(code, f"P{i:02d}", "intensita", 1 + i % 4, op=op)
        if i % 5 == 0:  # a retried write (same id) must not be applied twice
            assert store.answer(code, f"P{i:02d}", "intensita", 1 + i % 4, op=op) is False
        store.answer(code, f"P{i:02d}", "apertura", 4, op=op + "-a")
    store.general(code, "risorse", ["spazi e strutture"])
    store.close()


def test_fifty_writer_processes_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / "onda.sqlite"
    store = AnswerStore(path, district="Prova", wave=2026)
    codes = [c[0] for c in store.add_codes([f"ORG{w:02d}" for w in range(WRITERS)]).values()]
    store.close()
    db = write_at_once(path, codes, _writer)
    answers = AnswerStore(path, readonly=True).answers()
    assert len(answers) == WRITERS * ANSWERS_EACH
    assert sorted((a["codice"], a["partner"], a["campi"]["intensita"], a["campi"]["apertura"]) for a in answers) \
        == sorted((c, f"P{i:02d}", 1 + i % 4, 4) for c in codes for i in range(ANSWERS_EACH))
    assert {a["versione"] for a in answers} == {2}  # two writes each, the retries not applied
    assert db.execute("SELECT COUNT(*) FROM storia").fetchone()[0] == WRITERS * (2 * ANSWERS_EACH + 1)


# -- store rules -----------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    s = AnswerStore(tmp_path / "onda.sqlite", district="Ambito", wave=2026)
    s.add_codes(["A", "B", "C"])
    yield s
    s.close()


def test_answers_are_revised_with_history_and_checked(store):
    code = store.codes()["A"][0]
    store.answer(code, "B", "tipi", ["co-progettazione", "informazione", "informazione"])
    store.answer(code, "B", "intensita", 2)
    store.answer(code, "B", "intensita", 3)
    (answer,) = store.answers(code)
    assert answer["campi"] == {"tipi": ["informazione", "co-progettazione"], "intensita": 3}
    assert [h["valore"] for h in store.history(code) if h["campo"] == "intensita"] == [2, 3]
    store.remove(code, "B")
    assert store.answers(code) == [] and store.history(code)[-1]["campo"] == "tolto"
    store.answer(code, "B", "affidabilita", 4)  # chosen again: the earlier answers come back
    assert store.answers(code)[0]["campi"]["intensita"] == 3
    for bad, field, value in [("da 1 a 4", "intensita", 5), ("da 1 a 4", "apertura", True),
                              ("Tipo di relazione non valido", "tipi", ["amicizia"]), ("sconosciuta", "voto", 2)]:
        with pytest.raises(SurveyError, match=bad):
            store.answer(code, "C", field, value)
    with pytest.raises(SurveyError, match="sé stessa"):
        store.answer(code, "A", "intensita", 2)
    with pytest.raises(SurveyError, match="Codice non riconosciuto"):
        store.answer("indovinato", "B", "intensita", 2)
    with pytest.raises(SurveyError, match="Risposta non valida"):
        store.general(code, "risorse", ["denaro facile"])
    for name in ("sig.ra Bianchi", "RSSMRA85T10A562S", "Centro 333 1234567"):
        with pytest.raises(SurveyError, match="dati personali"):
            store.propose(code, name, "terzo settore")
    with pytest.raises(SurveyError, match="Settore non valido"):
        store.propose(code, "Associazione", "amici")
    assert store.proposals() == []


def test_a_closed_wave_refuses_changes(store):
    code = store.codes()["B"][0]
    store.answer(code, "A", "intensita", 2)
    store.close_wave()
    assert store.info()["stato"] == CLOSED
    with pytest.raises(SurveyError, match="chiusa"):
        store.answer(code, "A", "intensita", 3)
    assert store.answers(code)[0]["campi"]["intensita"] == 2


def test_codes_are_unguessable_and_kept(store):
    codes = store.codes()
    assert store.add_codes(["A", "B", "C"]) == codes  # re-opening keeps them
    flat = [c for cs in codes.values() for c in cs]
    assert len(set(flat)) == 3 and all(len(c) >= 11 for c in flat)
    assert store.actor_of(flat[0]) == "A" and store.actor_of(flat[0][:-1]) is None


# -- waves -----------------------------------------------------------------------------------------

@pytest.fixture
def wave(demo_copy, tmp_path):
    from workbench.survey.wave import open_wave

    return open_wave(demo_copy, 2026, tmp_path / "ondate", per_actor=2)


def _codes(wave) -> dict:
    s = AnswerStore(private_folder(wave) / "risposte.sqlite", readonly=True)
    try:
        return s.codes()
    finally:
        s.close()


def test_two_respondents_of_one_organisation_are_combined_by_the_rule(wave, demo_copy):
    from workbench.survey.wave import close
    from workbench.inputs.workspace import check_workspace

    codes = _codes(wave)
    actors = list(codes)
    a, b, c = actors[:3]
    s = AnswerStore(private_folder(wave) / "risposte.sqlite")
    first, second = codes[a]
    for code, kinds, level, trust in [(first, ["informazione"], 2, (4, 4, 3)),
                                      (second, ["co-progettazione"], 3, (3, 3, 3))]:
        s.answer(code, b, "tipi", kinds)
        s.answer(code, b, "intensita", level)
        for item, value in zip(("apertura", "affidabilita", "missione"), trust):
            s.answer(code, b, item, value)
    s.answer(first, c, "tipi", ["informazione"])  # no intensity: incomplete
    proposal = s.propose(codes[b][0], "Associazione <b>nuova</b>", "terzo settore")
    s.answer(codes[b][0], f"+{proposal}", "tipi", ["risorse condivise"])
    s.answer(codes[b][0], f"+{proposal}", "intensita", 1)
    s.decide(proposal, True)
    s.close()
    result = close(wave)
    legami = pd.read_csv(result["legami"], dtype=str, keep_default_na=False)
    ab = legami[(legami["da"] == a) & (legami["a"] == b)]
    assert sorted(ab["tipo"]) == ["co-progettazione", "informazione"]
    # intensity: mean of 2 and 3 rounded half up = 3; trust items (4,3)->4, (4,3)->4, (3,3)->3: mean 3.67 -> 4
    assert set(ab["intensita"]) == {"3"} and set(ab["fiducia"]) == {"4"} and set(ab["valore"]) == {""}
    assert [(i["attore"], i["partner"]) for i in result["incomplete"]] == [(a, c)]
    new = pd.read_csv(result["attori_nuovi"], dtype=str)
    assert new["nome"].tolist() == ["Associazione <b>nuova</b>"]
    assert legami[legami["a"] == new["id"][0]]["da"].tolist() == [b]
    silent = pd.read_csv(result["non_rispondenti"], dtype=str)
    assert len(silent) == len(actors) - 2 and a not in set(silent["id"]) and b not in set(silent["id"])
    # the wave's ties are valid legami rows of the district (with the new actor added)
    attori = pd.read_csv(demo_copy / "attori.csv", dtype=str, keep_default_na=False)
    pd.concat([attori, new.assign(livello="operativo")]).to_csv(demo_copy / "attori.csv", index=False)
    old = pd.read_csv(demo_copy / "legami.csv", dtype=str, keep_default_na=False)
    pd.concat([old, legami]).to_csv(demo_copy / "legami.csv", index=False)
    ws, problems = check_workspace(demo_copy)
    assert ws is not None and not [p for p in problems if not p.warning], problems
    assert 2026 in set(ws.table("legami")["onda"].astype(int))


def test_status_by_sector_and_console(wave):
    codes = _codes(wave)
    a, b = list(codes)[:2]
    s = AnswerStore(private_folder(wave) / "risposte.sqlite")
    s.answer(codes[a][1], b, "intensita", 2)
    s.complete(codes[b][0])
    s.close()
    run = subprocess.run([sys.executable, "-m", "workbench", "questionario", "segui", str(wave)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    n = len(codes)
    assert f"ha finito 1 organizzazione su {n}" in run.stdout and "1 in corso" in run.stdout
    assert f"Non hanno ancora risposto ({n - 2})" in run.stdout


def test_open_prints_one_code_per_organisation(demo_copy, tmp_path):
    run = subprocess.run([sys.executable, "-m", "workbench", "questionario", "apri", str(demo_copy), "--onda", "2026",
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    attori = pd.read_csv(demo_copy / "attori.csv", dtype=str)
    lines = [line for line in run.stdout.splitlines() if line.startswith("  ")]
    assert sorted(line.split(":")[0].strip() for line in lines) == sorted(attori["id"])
    codes = [line.split(": ")[1] for line in lines]
    assert len(set(codes)) == len(attori)


def test_pages_import_light():
    code = ("import sys, workbench.survey.page as p; heavy = [m for m in ('pandas', 'altair', 'numpy', "
            "'networkx', 'papermill', 'pyvis') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_new_id_is_fresh():
    assert new_id() != new_id()


# -- browser: two organisations answer on phones, the facilitator follows and closes ----------------

PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 768}
NEW_NAME = "<i>Nuova</i> associazione di quartiere"


@pytest.fixture
def wave_server(wave):
    """``workbench questionario servi``-equivalent server on the wave (local, facilitator key as in conftest)."""
    from tests.conftest import FACILITATOR_KEY, local_voila

    with local_voila(wave) as url:
        yield url, wave, FACILITATOR_KEY


def _phone(browser, blocked):
    from tests.conftest import offline_page

    return offline_page(browser, blocked, viewport=PHONE, is_mobile=True, has_touch=True)


def _open_as(page, url: str, code: str) -> None:
    page.goto(f"{url}voila/render/questionario.ipynb?codice={code}")
    page.wait_for_selector("text=Rispondi per:", timeout=120000)


def _add_partner(page, query: str, name: str):
    page.locator("input[placeholder^='cerca']").fill(query)
    option = page.locator(".widget-select select option", has_text=name).first
    option.wait_for(state="attached", timeout=20000)
    page.locator(".widget-select select").select_option(label=option.inner_text())
    page.get_by_role("button", name="Aggiungi come partner").click()
    box = page.locator(".wb-partner", has_text=name)
    box.wait_for(timeout=20000)
    return box


def _saved(wave, code: str, partner: str, want: dict, timeout: float = 30) -> dict:
    """The stored answers about a partner once they contain ``want`` (saved as given, no button pressed)."""
    import time

    deadline = time.time() + timeout
    while True:
        s = AnswerStore(private_folder(wave) / "risposte.sqlite", readonly=True)
        fields = next((a["campi"] for a in s.answers(code) if a["partner"] == partner), {})
        s.close()
        if all(fields.get(k) == v for k, v in want.items()) or time.time() > deadline:
            return fields
        time.sleep(0.3)


@pytest.mark.browser
@pytest.mark.slow
def test_two_organisations_answer_on_phones_and_the_facilitator_closes(wave_server, browser, demo_copy, tmp_path,
                                                                       monkeypatch):
    from workbench.survey.wave import proposed_id

    url, wave, key = wave_server
    codes = _codes(wave)
    attori = pd.read_csv(demo_copy / "attori.csv", dtype=str, keep_default_na=False).set_index("id")
    a, b = list(codes)[:2]
    partner_a, partner_b = list(codes)[5], list(codes)[6]
    blocked: list[str] = []
    first, second = _phone(browser, blocked), _phone(browser, blocked)
    try:
        wrong = _phone(browser, blocked)
        wrong.goto(f"{url}voila/render/questionario.ipynb?codice=indovinato")
        wrong.wait_for_selector("text=Codice non riconosciuto", timeout=120000)
        assert wrong.locator("text=Rispondi per:").count() == 0
        wrong.context.close()

        # organisation A answers everything about one partner
        _open_as(first, url, codes[a][0])
        assert attori.loc[a, "nome"] in first.locator("text=Rispondi per:").inner_text()
        box = _add_partner(first, attori.loc[partner_a, "nome"][:12], attori.loc[partner_a, "nome"])
        box.locator("label", has_text="co-progettazione").locator("input").check()
        selects = box.locator(".widget-dropdown select")
        selects.nth(0).select_option(index=3)  # coordinamento
        for i in range(1, 7):
            selects.nth(i).select_option(index=4 if i <= 3 else 2)
        full = _saved(wave, codes[a][0], partner_a, {"tipi": ["co-progettazione"], "intensita": 3, "apertura": 4,
                                                      "missione": 4, "coinvolgimento": 2})
        assert full["intensita"] == 3 and full["coinvolgimento"] == 2, full
        first.get_by_role("button", name="Ho finito").click()
        first.wait_for_selector("text=Grazie")
        assert first.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll
        past = first.evaluate("[...document.querySelectorAll('.wb-fit *')].filter(e => e.offsetParent !== null && "
                              "e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.className)")
        assert past == []  # nothing of the questionnaire beyond the phone's screen
        from tests.ui.test_pages_phone import ENGLISH_RE

        assert ENGLISH_RE.findall(first.title() + "\n" + first.inner_text("body")) == []

        # organisation B leaves halfway ...
        _open_as(second, url, codes[b][0])
        box = _add_partner(second, attori.loc[partner_b, "nome"][:12], attori.loc[partner_b, "nome"])
        box.locator("label", has_text="informazione").locator("input").check()
        box.locator(".widget-dropdown select").nth(0).select_option(index=2)
        assert _saved(wave, codes[b][0], partner_b, {"tipi": ["informazione"], "intensita": 2})["intensita"] == 2
        # «altro»: an organisation missing from the register, proposed and answered about
        second.get_by_role("button", name="Altro: organizzazione non in elenco").click()
        second.locator("input[placeholder^='nome dell']").fill(NEW_NAME)
        second.get_by_role("button", name="Proponi e aggiungi").click()
        other = second.locator(".wb-partner", has_text="(proposta)")
        other.wait_for(timeout=20000)
        assert other.locator("h2").inner_text() == NEW_NAME + " (proposta)"  # shown as typed, not as HTML
        other.locator("label", has_text="risorse condivise").locator("input").check()
        other.locator(".widget-dropdown select").nth(0).select_option(index=1)
        s = AnswerStore(private_folder(wave) / "risposte.sqlite", readonly=True)
        (proposal,) = s.proposals()
        s.close()
        assert _saved(wave, codes[b][0], f"+{proposal['id']}", {"intensita": 1})["intensita"] == 1
        second.context.close()
        # ... and resumes with the same link: the answers are there
        second = _phone(browser, blocked)
        _open_as(second, url, codes[b][0])
        box = second.locator(".wb-partner", has_text=attori.loc[partner_b, "nome"])
        box.wait_for(timeout=20000)
        assert box.locator("label", has_text="informazione").locator("input").is_checked()
        assert box.locator(".widget-dropdown select").nth(0).evaluate("s => s.selectedIndex") == 2
        box.locator(".widget-dropdown select").nth(1).select_option(index=3)
        assert _saved(wave, codes[b][0], partner_b, {"apertura": 3})["apertura"] == 3

        # the facilitator sees the response rate and closes the wave
        fac = first.context.browser.new_context(viewport=LAPTOP, locale="it-IT").new_page()
        fac.goto(f"{url}voila/render/questionario_facilitatore.ipynb?chiave={key}")
        fac.wait_for_selector("text=Tasso di risposta", timeout=120000)
        text = fac.locator(".wb-q").filter(has_text="Tasso di risposta").inner_text()
        n = len(codes)
        assert f"Ha finito 1 organizzazione su {n}, 1 in corso" in text
        assert f"Non hanno ancora risposto ({n - 2})" in text
        assert "Organizzazioni proposte da approvare (1)" in fac.inner_text("body")
        assert fac.locator(".widget-html b", has_text="Nuova").count() == 1  # the name, escaped
        assert fac.locator("i", has_text="Nuova").count() == 0
        fac.get_by_role("button", name="Approva").click()
        fac.wait_for_selector("text=Organizzazioni proposte da approvare (0)")
        fac.get_by_role("button", name="Chiudi l'onda").click()
        fac.wait_for_selector("text=premi di nuovo")
        fac.get_by_role("button", name="Chiudi l'onda").click()
        fac.wait_for_selector("text=Onda chiusa", timeout=60000)
        fac.context.close()
        assert blocked == []
    finally:
        first.context.close()
        second.context.close()

    legami = pd.read_csv(private_folder(wave) / "legami_onda_2026.csv", dtype=str, keep_default_na=False)
    new = pd.read_csv(private_folder(wave) / "attori_nuovi_onda_2026.csv", dtype=str, keep_default_na=False)
    assert new[["id", "nome", "settore"]].values.tolist() == [[proposed_id(proposal["id"]), NEW_NAME, "altro"]]
    assert sorted(map(tuple, legami[["da", "a", "tipo", "intensita"]].values.tolist())) == sorted(
        [(a, partner_a, "co-progettazione", "3"), (b, partner_b, "informazione", "2"),
         (b, new["id"][0], "risorse condivise", "1")])
    assert legami.loc[legami["da"] == a, "fiducia"].tolist() == ["4"]

    # notebook 03 runs on the district with the wave's ties and the approved actor (papermill)
    from workbench.run import runner

    old = pd.read_csv(demo_copy / "legami.csv", dtype=str, keep_default_na=False)
    pd.concat([old, legami]).to_csv(demo_copy / "legami.csv", index=False)
    pd.concat([attori.reset_index(), new.assign(livello="operativo")]).to_csv(demo_copy / "attori.csv", index=False)
    monkeypatch.setattr(runner, "STEPS", tuple(s for s in runner.STEPS if s.notebook == "03_rete.ipynb"))
    final = runner.run_district(demo_copy, tmp_path / "reports", progress=False, log=lambda *_: None)
    import json

    report = json.loads((final / "cruscotti" / "rete.json").read_text(encoding="utf-8"))
    assert report["onda"] == 2026 and report["cambiamento"]["risposta"]["2026"]["rispondenti"] == 2


# -- readings: scores, privacy, change, profiles ----------------------------------------------------

@pytest.fixture(scope="module")
def demo_trust():
    from workbench.paths import DEMO
    from workbench.survey.scores import trust_report
    from workbench.inputs.workspace import load_workspace

    ws = load_workspace(DEMO / "cremasco")
    return ws, trust_report(ws)


def _pairs(ws, wave, raters=None):
    """Directed pairs of one wave, trust and value averaged over the kinds (recomputed here with pandas)."""
    legami = ws.table("legami")
    ties = legami[legami["onda"] == wave]
    if raters is not None:
        ties = ties[ties["da"].isin(raters)]
    return ties.groupby(["da", "a"])[["fiducia", "valore"]].mean().reset_index()


def test_scores_received_are_means_over_enough_raters(demo_trust):
    ws, report = demo_trust
    threshold = ws.threshold
    wave = report["onde"][-1]
    pairs = _pairs(ws, wave)
    received = pairs.groupby("a")["fiducia"].agg(["mean", "count"])
    members = report["per_onda"][str(wave)]["membri"]
    shown = [m for m in members if m["fiducia"] is not None]
    hidden = [m for m in members if m["fiducia"] is None and m["fiducia_valutazioni"]]
    assert shown and hidden  # the demo has both
    for m in shown:
        assert m["fiducia_valutazioni"] == received.loc[m["id"], "count"] >= threshold
        assert m["fiducia"] == pytest.approx(received.loc[m["id"], "mean"], abs=0.005)
    small = [m for m in hidden if m["fiducia_valutazioni"] < threshold]
    assert small and all(0 < m["fiducia_valutazioni"] for m in hidden)
    # secondary suppression: the hidden ones together have at least the threshold of ratings, and any
    # organisation hidden with enough ratings has no more than the fewest shown
    assert sum(m["fiducia_valutazioni"] for m in hidden) >= threshold
    extra = [m["fiducia_valutazioni"] for m in hidden if m["fiducia_valutazioni"] >= threshold]
    assert all(n <= min(m["fiducia_valutazioni"] for m in shown) for n in extra)
    # the network average pools only the ratings of the organisations shown
    pooled = pairs.loc[pairs["a"].isin({m["id"] for m in shown}), "fiducia"]
    average = report["per_onda"][str(wave)]["medie"]["fiducia"]
    assert average["media"] == pytest.approx(pooled.mean(), abs=0.005) and average["valutazioni"] == len(pooled)
    # relative connectivity: distinct partners in either direction over the other actors
    first = members[0]["id"]
    partners = set(pairs.loc[pairs["da"] == first, "a"]) | set(pairs.loc[pairs["a"] == first, "da"])
    assert members[0]["connettivita"] == pytest.approx(len(partners) / (len(members) - 1))


def test_change_counts_only_raters_who_answered_both_waves(demo_trust):
    ws, report = demo_trust
    change = report["cambiamento"]
    legami = ws.table("legami")
    declared = legami.groupby("onda")["da"].agg(set)
    both = declared[change["prima"]] & declared[change["dopo"]]
    assert change["rispondenti_entrambe"] == len(both) < len(set(legami["da"]))
    row = next(m for m in change["membri"] if m["fiducia_differenza"] is not None)
    means = [_pairs(ws, w, both).groupby("a")["fiducia"].mean()[row["id"]] for w in (change["prima"], change["dopo"])]
    assert row["fiducia_differenza"] == pytest.approx(means[1] - means[0], abs=0.011)
    assert not [k for m in change["membri"] for k in m if k.endswith(("_prima", "_dopo"))]  # only differences


def test_profile_is_escaped_standalone_and_private(demo_trust):
    import copy
    import re

    from workbench.survey.profile import profile_document

    ws, report = demo_trust
    report = copy.deepcopy(report)
    wave = str(report["onde"][-1])
    hidden = next(m for m in report["per_onda"][wave]["membri"] if m["fiducia"] is None and m["fiducia_valutazioni"])
    hidden["nome"] = "<script>alert(1)</script> Ente"
    page = profile_document(report, hidden["id"])
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r'(src|href)="?https?:', page)
    assert report["nascosto"] in page
    facts = report["profili"][wave][hidden["id"]]
    assert page.count("<tr>") >= len(facts["legami"]) + len(facts["ruoli"]) + 3
    shown = next(m for m in report["per_onda"][wave]["membri"] if m["fiducia"] is not None)
    from workbench import fmt

    assert f"{fmt.number(shown['fiducia'], 2)} su 4" in profile_document(report, shown["id"])


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["telefono", "portatile"])
def test_trust_dashboard_shows_waves_change_and_a_profile(voila_url, browser, viewport, demo_trust):
    from tests.conftest import LOCAL

    _, report = demo_trust
    context = browser.new_context(viewport=viewport, locale="it-IT")
    blocked = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL)
                  else (blocked.append(r.request.url), r.abort()))
    page = context.new_page()
    try:
        page.goto(voila_url)
        page.get_by_text("Fiducia e valore nella rete").first.click()
        page.wait_for_selector("text=Fiducia media", timeout=120000)
        assert "Dati dimostrativi" in page.inner_text("body")
        wave = str(report["onde"][-1])
        table = page.locator("table.wb-table").first
        assert table.locator("tbody tr").count() == len(report["per_onda"][wave]["membri"])
        assert report["nascosto"] in table.inner_text()
        assert "Cambiamento dall'onda" in page.inner_text("body")
        member = next(m for m in report["per_onda"][wave]["membri"] if m["fiducia"] is not None)
        page.locator(".widget-dropdown select").nth(1).select_option(label=member["nome"])
        page.wait_for_selector("text=Scarica il profilo")
        assert page.locator(".wb-profile h1", has_text=member["nome"]).count() == 1
        clipped = page.evaluate("[...document.querySelectorAll('.wb-profile p, .wb-profile h2')].filter("
                                "e => e.getBoundingClientRect().right > window.innerWidth + 1).length")
        assert clipped == 0  # every sentence fits the screen (wide tables scroll inside the page)
        assert blocked == []
    finally:
        context.close()


# -- the demo wave (make demo) ----------------------------------------------------------------------

def test_demo_wave_is_rebuilt_identically_and_served_with_its_reserved_page(demo_copy, tmp_path):
    import json

    from workbench.paths import DEMO
    from workbench.run.serve import served_districts
    from workbench.survey.wave import load_example, open_store, open_wave, status

    sys.path.insert(0, str(DEMO.parent))
    try:
        import build_demo
    finally:
        sys.path.remove(str(DEMO.parent))
    example = DEMO / "questionari" / "cremasco-2026.json"
    rebuilt = build_demo.build_demo_wave(pd.read_csv(demo_copy / "attori.csv"), pd.read_csv(demo_copy / "legami.csv"),
                                         build_demo.NETWORK_SEED)
    assert json.loads(json.dumps(rebuilt)) == json.loads(example.read_text(encoding="utf-8"))
    folder = open_wave(demo_copy, 2026, tmp_path)
    assert load_example(folder, example) == len(rebuilt["organizzazioni"])
    load_example(folder, example)  # loading again changes nothing
    setup, store = open_store(folder, readonly=True)
    state = status(setup, store)
    assert len(store.answers()) == sum(len(o["partner"]) for o in rebuilt["organizzazioni"])
    store.close()
    assert state["finito"] == sum(o["finito"] for o in rebuilt["organizzazioni"]) and 0 < state["tasso"] < 1
    for field in ("risorse", "esiti"):  # counted over every respondent who ticked them
        counted = {r["voce"]: r["risposte"] for r in state[field]}
        for choice in {c for o in rebuilt["organizzazioni"] for c in o[field]}:
            assert counted[choice] == sum(choice in o[field] for o in rebuilt["organizzazioni"])
    assert setup["dimostrativi"] is True
    (district,) = served_districts(tmp_path)
    assert [c.path for c in district.cards] == [f"{folder.name}/cruscotti/questionario.ipynb"]
    assert district.reserved == (f"{folder.name}/cruscotti/questionario_facilitatore.ipynb",)
    # answers and codes stay out of what is served and of the site's archive
    import zipfile

    from workbench.run.site import zip_site

    assert {p.suffix for p in folder.rglob("*") if p.is_file()} == {".json", ".ipynb"}
    names = zipfile.ZipFile(zip_site(tmp_path, tmp_path.parent / "sito.zip")).namelist()
    assert any(n.endswith("questionario.ipynb") for n in names)
    assert not [n for n in names if n.endswith((".sqlite", ".csv", "-wal"))]


@pytest.mark.slow
def test_servi_prints_the_links_and_keeps_the_facilitator_page_reserved(wave):
    import re
    import signal
    import urllib.error
    import urllib.request

    from tests.conftest import free_port, wait_http

    port = free_port()
    command = [sys.executable, "-m", "workbench", "questionario", "servi", str(wave), "--porta", str(port)]
    proc = subprocess.Popen(command,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        lines = []
        while not any("riservata" in line for line in lines):
            lines.append(proc.stdout.readline())
        out = "".join(lines)
        links = re.findall(r"http://127\.0\.0\.1:\d+/voila/render/questionario\.ipynb\?codice=[\w-]+", out)
        assert len(links) == sum(len(c) for c in _codes(wave).values())  # one per respondent code
        assert (private_folder(wave) / "link.csv").read_text(encoding="utf-8-sig").count("codice=") == len(links)
        facilitator = re.search(r"(http://\S+questionario_facilitatore\.ipynb)\?chiave=(\S+)", out)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(facilitator.group(1) + "?chiave=sbagliata", timeout=30)
        assert refused.value.code == 403 and "riservata" in refused.value.read().decode()
        with urllib.request.urlopen(links[0], timeout=60) as page:
            assert page.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)


def test_finishing_names_the_partners_that_will_not_count(wave):
    from workbench.survey.page import respondent_page

    codes = _codes(wave)
    code, (full, half) = next(iter(codes.values()))[0], list(codes)[3:5]
    page = respondent_page(wave / "cruscotti", code)
    for partner in (full, half):
        page.add(partner)
    page.partners[full].kinds[0].value = True
    page.partners[full].level.value = 2
    page.partners[half].kinds[1].value = True
    page.finish()
    import html

    assert html.escape(page.partners[half].name) in page.done_status.value  # shown escaped
    assert html.escape(page.partners[full].name) not in page.done_status.value
    s = AnswerStore(private_folder(wave) / "risposte.sqlite", readonly=True)
    assert s.generals()[code]["completato"] and {a["partner"] for a in s.answers(code)} == {full, half}
    s.close()


def test_a_closed_wave_shows_the_answers_read_only(wave):
    from workbench.survey.page import respondent_page

    code = next(iter(_codes(wave).values()))[0]
    partner = list(_codes(wave))[3]
    s = AnswerStore(private_folder(wave) / "risposte.sqlite")
    s.answer(code, partner, "intensita", 4)
    s.close_wave()
    s.close()
    page = respondent_page(wave / "cruscotti", code)
    assert list(page.partners) == [partner] and page.partners[partner].level.value == 4
    assert page.partners[partner].level.disabled and page.query.disabled
    wrong = respondent_page(wave / "cruscotti", "sbagliato")
    assert "Codice non riconosciuto" in wrong.who.value and not wrong.partners


def test_links_on_the_room_network_carry_the_token(wave):
    from urllib.parse import parse_qs, urlsplit

    from workbench.survey.wave import respondent_links

    links = respondent_links(wave, "http://192.168.1.20:8866/", token="t0k")
    codes = _codes(wave)
    assert len(links) == sum(len(c) for c in codes.values())
    first = urlsplit(links[0]["link"])
    assert (first.netloc, first.path) == ("192.168.1.20:8866", "/voila/render/questionario.ipynb")
    assert parse_qs(first.query) == {"token": ["t0k"], "codice": [codes[links[0]["attore"]][0]]}


def test_chiudi_in_the_console(wave):
    codes = _codes(wave)
    a, b = list(codes)[:2]
    s = AnswerStore(private_folder(wave) / "risposte.sqlite")
    s.answer(codes[a][0], b, "tipi", ["informazione", "co-progettazione"])
    s.answer(codes[a][0], b, "intensita", 2)
    s.close()
    run = subprocess.run([sys.executable, "-m", "workbench", "questionario", "chiudi", str(wave)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    legami = private_folder(wave) / "legami_onda_2026.csv"
    assert "Onda 2026 chiusa" in run.stdout and f"Scritti 2 legami in {legami}" in run.stdout
    assert f"non hanno risposto ({len(codes) - 1})" in run.stdout
    again = subprocess.run([sys.executable, "-m", "workbench", "questionario", "segui", str(wave)],
                           capture_output=True, text=True)
    assert "(chiusa)" in again.stdout

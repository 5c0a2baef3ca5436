"""The partners' survey in waves (issue 16): answers store, waves, pages, scores and profiles."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from workbench.survey.store import CLOSED, AnswerStore, SurveyError, new_id

WRITERS, ANSWERS_EACH = 50, 20


# -- concurrency -----------------------------------------------------------------------------------

def _writer(path: str, code: str, start, errors) -> None:
    start.wait()
    try:
        store = AnswerStore(path)
        for i in range(ANSWERS_EACH):
            op = f"{code}-{i:02d}"
            store.answer(code, f"P{i:02d}", "intensita", 1 + i % 4, op=op)
            if i % 5 == 0:  # a retried write (same id) must not be applied twice
                assert store.answer(code, f"P{i:02d}", "intensita", 1 + i % 4, op=op) is False
            store.answer(code, f"P{i:02d}", "apertura", 4, op=op + "-a")
        store.general(code, "risorse", ["spazi e strutture"])
        store.close()
    except Exception as exc:  # reported to the parent
        errors.put(f"{code}: {exc!r}")


def test_fifty_writer_processes_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / "onda.sqlite"
    store = AnswerStore(path, district="Prova", wave=2026)
    codes = [c[0] for c in store.add_codes([f"ORG{w:02d}" for w in range(WRITERS)]).values()]
    store.close()
    ctx = mp.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), code, start, errors)) for code in codes]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=180)
    assert all(p.exitcode == 0 for p in procs)
    assert errors.empty(), errors.get()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
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
    s = AnswerStore(wave / "risposte.sqlite", readonly=True)
    try:
        return s.codes()
    finally:
        s.close()


def test_two_respondents_of_one_organisation_are_combined_by_the_rule(wave, demo_copy):
    from workbench.survey.wave import close
    from workbench.workspace import check_workspace

    codes = _codes(wave)
    actors = list(codes)
    a, b, c = actors[:3]
    s = AnswerStore(wave / "risposte.sqlite")
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
    s = AnswerStore(wave / "risposte.sqlite")
    s.answer(codes[a][1], b, "intensita", 2)
    s.complete(codes[b][0])
    s.close()
    run = subprocess.run([sys.executable, "-m", "workbench", "questionario", "segui", str(wave)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    n = len(codes)
    assert f"hanno finito 1 organizzazioni su {n}" in run.stdout and "1 in corso" in run.stdout
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

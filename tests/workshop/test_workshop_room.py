"""Notebook 04's ipywidgets participant page without a browser (issue 18): the form's fields, its summary and reset, identities."""

from __future__ import annotations

import pytest

from workbench.workshop.store import NOTE_TYPES, Store, new_token
from workbench.workshop.page import NoteForm, ParticipantPage

SETUP = {"laboratorio": {"nome": "Lab", "data": "2025-03-12", "slug": "lab-2025-03-12"}, "distretto": {"nome": "Amb"},
         "punti": 2, "riferimenti": {"comune": ["Crema", "Lodi"], "sub_ambito": ["Nord"], "area": ["anziani"],
                                     "attore": []},
         "grafici": [{"id": "disagio:x", "etichetta": "Disagio — X"}], "famiglie": ["casa", "lavoro"],
         "oggetti": ["L'ambito nel suo insieme", "Assistenza domiciliare"], "documenti": []}


def shown(widget) -> bool:
    return widget.layout.display != "none"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "lab.sqlite", name="Lab", dots=2)
    yield s
    s.close()


def entered(store, name="Maria", role="tecnico", token=None) -> ParticipantPage:
    page = ParticipantPage(SETUP, store)
    page.role.value, page.nick.value = role, name
    if token:
        page.token.value = token  # what the browser's script does on a page load
    else:
        page.enter()
    return page


def test_every_field_has_its_own_layout():
    form = NoteForm(SETUP)
    layouts = [f.layout for f in form.fields]
    assert len({id(x) for x in layouts}) == len(layouts)
    page = ParticipantPage(SETUP, None)
    widgets = [page.role, page.nick, page.subject, page.mine, *form.fields]
    assert len({id(w.layout) for w in widgets}) == len(widgets)


@pytest.mark.parametrize("kind", NOTE_TYPES)
def test_each_type_keeps_every_relevant_field_visible(kind):
    form = NoteForm(SETUP)
    form.kind.value = kind
    for target in ("ambito", "comune", "sub_ambito", "area"):
        form.target.value = target
        assert shown(form.kind) and shown(form.target) and shown(form.chart) and shown(form.text)
        assert shown(form.value) == (target != "ambito")
        assert shown(form.family) == (kind == "proposta")
    assert [o[1] for o in form.target.options] == ["ambito", "comune", "sub_ambito", "area"]  # no actors here


def test_summary_says_what_will_be_saved_and_reset_clears_attachments():
    form = NoteForm(SETUP)
    form.kind.value, form.target.value = "proposta", "comune"
    assert "Comune: da scegliere" in form.summary_text()
    form.value.value, form.chart.value, form.family.value = "Lodi", "disagio:x", "casa"
    assert form.summary_text() == "Proposta · riferita a Comune: Lodi · grafico: Disagio — X · famiglia: casa"
    assert "Comune: Lodi" in form.summary.value
    form.kind.value = "criticità"  # a family is only for proposals: not saved, not announced
    assert form.attachment() == {"kind": "criticità", "target": "comune", "value": "Lodi", "chart": "disagio:x",
                                 "family": ""}
    form.text.value = "<b>testo</b>"
    form.reset()
    assert form.attachment() == {"kind": "criticità", "target": "ambito", "value": "", "chart": "", "family": ""}
    assert form.text.value == "" and "Tutto l&#x27;ambito · grafico: nessuno" in form.summary.value


def test_saved_as_chosen_then_nothing_carries_over(store):
    page = entered(store)
    form = page.form
    form.kind.value, form.target.value = "criticità", "comune"
    form.value.value, form.chart.value, form.text.value = "Crema", "disagio:x", "Trasporti carenti"
    assert page.save_note()
    form.text.value = "Seconda nota"
    assert page.save_note()
    first, second = sorted(store.notes(), key=lambda n: n["testo"] != "Trasporti carenti")
    assert (first["tipo"], first["riferimento"], first["valore"], first["grafico"]) == (
        "criticità", "comune", "Crema", "disagio:x")
    assert (second["riferimento"], second["valore"], second["grafico"], second["famiglia"]) == ("ambito", "", "", "")


def test_comune_must_be_chosen_and_rubric_subject_too(store):
    page = entered(store)
    page.form.target.value = "comune"
    page.form.text.value = "Senza comune"
    assert not page.save_note() and "quale comune" in page.note_status.value
    page.scores["persona"].value = 4
    page.rate()
    assert "Scegli il servizio" in page.rate_status.value and store.ratings() == []
    page.subject.value = "Assistenza domiciliare"
    page.rate()
    assert [(r["oggetto"], r["punteggio"]) for r in store.ratings()] == [("Assistenza domiciliare", 4)]
    assert page.subject.value == "" and page.scores["persona"].value == 0


def test_second_maria_cannot_edit_the_first_ones_notes_and_has_her_own_dots(store):
    first = entered(store, "Maria")
    first.form.text.value = "Nota della prima Maria"
    first.save_note()
    second = entered(store, "maria", "cittadino")
    assert "già usato da un altro partecipante" in second.who.value
    second.refresh()
    assert second.mine.options == () and first.mine.options[0][0] == "Nota della prima Maria"
    note = store.notes()[0]["id"]
    second.mine.options = [("forzata", note)]  # even a forged choice is refused by the store
    second.mine.value, second.mine_text.value = note, "Cambiata da un'altra"
    second.edit_note()
    assert "solo le tue note" in second.edit_status.value
    second.delete_note()
    assert [n["testo"] for n in store.notes()] == ["Nota della prima Maria"]
    for page in (first, first, second):
        page.refresh()
        page.pick.value = note
        page.vote()
    assert store.votes_left("Maria", token=first.me["token"]) == 0
    assert store.votes_left("Maria", token=second.me["token"]) == 1
    assert "Ti resta <b>1</b> punto su 2" in second.left.value


def test_a_refreshed_page_is_the_same_participant(store):
    page = entered(store, "Luca", "amministratore")
    page.form.text.value = "Prima del ricaricamento"
    page.save_note()
    token = page.me["token"]
    assert page.token.value == token  # handed to the browser's script, which keeps it
    again = ParticipantPage(SETUP, store)
    again.token.value = token  # the page loaded again: the script sends the kept token
    assert again.me == {"nome": "Luca", "ruolo": "amministratore", "token": token}
    assert "Bentornato" in again.who.value and again.tabs.layout.display is None
    assert again.mine.options[0][0] == "Prima del ricaricamento"
    stranger = ParticipantPage(SETUP, store)
    stranger.token.value = new_token()  # a token the store has never seen: nothing happens
    assert stranger.me["nome"] == "" and stranger.tabs.layout.display == "none"


def test_notes_attach_to_comuni_sub_ambiti_and_ambito_without_optional_tables(demo_copy, tmp_path):
    from workbench.workshop.export import prepare_workshop
    from workbench.inputs.workspace import load_workspace

    for table in ("servizi", "attori", "legami", "ruoli"):
        (demo_copy / f"{table}.csv").unlink()
    comuni = demo_copy / "comuni.csv"
    lines = comuni.read_text(encoding="utf-8").splitlines()
    lines[1:] = [line.replace(",,", ",Nord,", 1) if i % 2 else line.replace(",,", ",Sud,", 1)
                 for i, line in enumerate(lines[1:])]
    comuni.write_text("\n".join(lines) + "\n", encoding="utf-8")
    setup = prepare_workshop(load_workspace(demo_copy), "Solo obbligatorie", "2025-03-12",
                             output=tmp_path / "report" / "cremasco" / "cruscotti")
    assert setup["riferimenti"]["sub_ambito"] == ["Nord", "Sud"] and setup["riferimenti"]["attore"] == []
    store = Store(setup["archivio_assoluto"])
    page = ParticipantPage(setup, store)
    page.role.value, page.nick.value = "amministratore", "Sindaca"
    page.enter()
    assert [o[1] for o in page.form.target.options] == ["ambito", "comune", "sub_ambito", "area"]
    for target, value in (("comune", "Crema"), ("sub_ambito", "Sud"), ("ambito", "")):
        page.form.kind.value, page.form.target.value = "criticità", target
        if value:
            page.form.value.value = value
        page.form.text.value = f"Criticità su {target}"
        assert page.save_note(), page.note_status.value
    assert sorted((n["riferimento"], n["valore"]) for n in store.notes()) == [
        ("ambito", ""), ("comune", "Crema"), ("sub_ambito", "Sud")]
    assert page.subject.options[1:] == tuple((o, o) for o in setup["oggetti"])  # nothing chosen for them
    store.close()


def test_the_room_starts_no_kernel_of_its_own(demo_reports, monkeypatch):
    """The room's page is served by the server itself: no pool of participant kernels, on the room's network
    or not, and notebook 04's page (laboratorio.ipynb) is never preheated."""
    from workbench.run import serve

    commands = []
    monkeypatch.setattr(serve, "run_until_stopped", lambda command, env: commands.append(command) or 0)
    serve.serve_dashboards(demo_reports, lan=True)
    serve.serve_dashboards(demo_reports, lan=False)
    for command in commands:
        assert not any("kernel_pools" in a or "room" in a for a in command)
        denied = next(a for a in command if a.startswith("--VoilaKernelManager.preheat_denylist="))
        assert "'laboratorio.ipynb'" in denied and "'facilitatore.ipynb'" in denied
    assert "--KernelManager.transport=ipc" in commands[0]


def test_personal_data_warned_then_saved_on_the_second_press_once(store):
    page = entered(store)
    page.form.text.value = "Chiamate Anna al 333 1234567 per il trasporto"
    assert not page.save_note() and "Attenzione" in page.note_status.value
    assert store.notes() == [] and page.form.text.value  # nothing saved, nothing cleared
    assert page.save_note()  # the same note sent again: saved, once
    assert [n["testo"] for n in store.notes()] == ["Chiamate Anna al 333 1234567 per il trasporto"]
    page.form.text.value = "Chiamate Anna al 333 1234567 per il trasporto"
    assert not page.save_note()  # a new note (after the reset) is a new write: warned again

"""The room's API without a server (issue 18): what each action of the light participant page saves."""

from __future__ import annotations

import json

import pytest

from workbench.sqlstore import new_id
from workbench.workshop.room import MAX_BODY, Room, RoomRequestError, open_room, read_body
from workbench.workshop.store import NOTE_TYPES, PersonalDataWarning, WorkshopError, participant_key

SETUP = {"laboratorio": {"nome": "Lab", "data": "2025-03-12", "slug": "lab-2025-03-12"}, "distretto": {"nome": "Amb"},
         "archivio": "lab.sqlite", "punti": 2,
         "riferimenti": {"comune": ["Crema", "Lodi"], "sub_ambito": ["Nord"], "area": ["anziani"], "attore": []},
         "grafici": [{"id": "disagio:x", "etichetta": "Disagio — X"}], "famiglie": ["casa", "lavoro"],
         "oggetti": ["L'ambito nel suo insieme", "Assistenza domiciliare"], "documenti": []}


@pytest.fixture
def room(tmp_path) -> Room:
    (tmp_path / "laboratorio.json").write_text(json.dumps(SETUP), encoding="utf-8")
    r = open_room(tmp_path)
    yield r
    r.store.close()


def enter(room: Room, name: str = "Maria", role: str = "tecnico") -> str:
    return room.act("entra", "", {"nome": name, "ruolo": role})["token"]


def note(room: Room, token: str, text: str, **fields) -> dict:
    return room.act("nota", token, {"tipo": "proposta", "testo": text, "op": new_id(), **fields})


def test_page_offers_only_what_the_setup_has_and_no_store_path(room):
    page = room.page()
    assert [r[0] for r in page["riferimenti"]] == ["ambito", "comune", "sub_ambito", "area"]  # no actors here
    assert page["chiave"] == "wb-laboratorio:lab-2025-03-12" and page["punti"] == 2
    assert "lab.sqlite" not in json.dumps(page)


def test_enter_issues_a_token_kept_as_a_digest_and_a_second_maria_is_warned(room):
    reply = room.act("entra", "", {"nome": "Maria", "ruolo": "tecnico"})
    token = reply["token"]
    assert reply["messaggio"] == "Partecipi come Maria (tecnico)" and reply["avviso"] == ""
    assert reply["stato"]["io"] == {"nome": "Maria", "ruolo": "tecnico"}
    assert room.act("entra", token, {"nome": "Maria", "ruolo": "tecnico"})["token"] == token  # back again
    other = room.act("entra", "", {"nome": "MARIA", "ruolo": "cittadino"})
    assert other["token"] != token and "già usato da un altro partecipante" in other["avviso"]
    stored = [tuple(r) for r in room.store.db.execute("SELECT * FROM partecipanti")]
    assert participant_key(token) in {r[0] for r in stored} and all(token not in str(r) for r in stored)
    with pytest.raises(WorkshopError, match="Scegli il tuo ruolo"):
        room.act("entra", "", {"nome": "Ugo"})
    with pytest.raises(WorkshopError, match="non valido"):
        room.state("non-un-token")


@pytest.mark.parametrize("kind", NOTE_TYPES)
@pytest.mark.parametrize("target,value", [("ambito", ""), ("comune", "Lodi"), ("sub_ambito", "Nord"),
                                          ("area", "anziani")])
def test_each_note_type_is_saved_as_chosen(room, kind, target, value):
    token = enter(room)
    reply = note(room, token, f"{kind} su {target}", tipo=kind, riferimento=target, valore=value,
                 grafico="disagio:x", famiglia="lavoro")
    assert reply["messaggio"].startswith("Nota salvata")
    saved = room.store.notes()[0]
    assert (saved["tipo"], saved["riferimento"], saved["valore"], saved["grafico"], saved["famiglia"]) == (
        kind, target, value, "disagio:x", "lavoro" if kind == "proposta" else "")
    shown = reply["stato"]["note"][0]
    assert shown["mia"] and shown["grafico"] == "Disagio — X" and "partecipante" not in shown


@pytest.mark.parametrize("fields,message", [
    ({"riferimento": "comune"}, "quale comune"),
    ({"riferimento": "comune", "valore": "Milano"}, "non è tra quelli"),
    ({"riferimento": "attore", "valore": "x"}, "tra quelli proposti"),
    ({"grafico": "altro:y"}, "non è tra quelli"),
    ({"famiglia": "x" * 300}, "non è tra quelli"),
    ({"tipo": "domanda"}, "Tipo di nota non valido"),
    ({"testo": ""}, "La nota è vuota"),
    ({"testo": "a" * 601}, "troppo lunga"),
    ({"testo": "Il codice RSSMRA85T10A562S"}, "codice fiscale"),
    ({"op": "1; DROP TABLE note"}, "operazione non valido"),
    ({"testo": ["una", "lista"]}, "non valido")])
def test_what_the_page_would_never_send_is_refused_in_italian(room, fields, message):
    token = enter(room)
    with pytest.raises(WorkshopError, match=message):
        note(room, token, "Testo", **fields)
    assert room.store.notes() == []


def test_nothing_is_written_before_entering(room):
    with pytest.raises(RoomRequestError, match="premi «Entra»"):
        note(room, "", "Senza identità")
    with pytest.raises(RoomRequestError, match="Azione sconosciuta"):
        room.act("oscura", enter(room), {})


def test_personal_data_warned_then_saved_when_sent_again_once(room):
    token, op = enter(room), new_id()
    body = {"tipo": "criticità", "testo": "Chiamate Anna al 333 1234567", "op": op}
    with pytest.raises(PersonalDataWarning, match="numero di telefono"):
        room.act("nota", token, body)
    assert room.store.notes() == []
    room.act("nota", token, body)  # the same write again: saved
    room.act("nota", token, body)  # a retried request: still one note
    assert [n["testo"] for n in room.store.notes()] == ["Chiamate Anna al 333 1234567"]
    with pytest.raises(PersonalDataWarning):  # a new note is a new write: warned again
        room.act("nota", token, {**body, "op": new_id()})


def test_only_the_author_edits_or_deletes_and_edits_after_votes_keep_history(room):
    first, second = enter(room, "Maria"), enter(room, "maria", "cittadino")
    note(room, first, "Nota della prima Maria")
    nid = room.store.notes()[0]["id"]
    assert [n["mia"] for n in room.state(second)["note"]] == [False]
    for action, body in (("modifica", {"nota": nid, "testo": "Cambiata da un'altra"}), ("elimina", {"nota": nid})):
        with pytest.raises(WorkshopError, match="solo le tue note"):
            room.act(action, second, {**body, "op": new_id()})
    room.act("voto", second, {"nota": nid, "op": new_id()})
    reply = room.act("modifica", first, {"nota": nid, "testo": "Nota della prima Maria, corretta", "op": new_id()})
    assert reply["stato"]["note"][0]["modificata"] == "modificata dopo 1 voto"
    assert [v["testo"] for v in room.store.versions(nid)] == ["Nota della prima Maria", "Nota della prima Maria, corretta"]
    assert room.act("elimina", first, {"nota": nid, "op": new_id()})["stato"]["note"] == []


def test_votes_stay_within_each_participants_budget(room):
    first, second = enter(room, "Maria"), enter(room, "maria", "cittadino")
    note(room, first, "Da votare")
    nid = room.store.notes()[0]["id"]
    assert room.act("voto", first, {"nota": nid, "op": new_id()})["stato"]["punti_restanti"] == 1
    assert room.act("voto", first, {"nota": nid, "op": new_id()})["stato"]["punti_restanti"] == 0
    with pytest.raises(WorkshopError, match="tutti i tuoi 2 punti"):
        room.act("voto", first, {"nota": nid, "op": new_id()})
    assert room.state(second)["punti_restanti"] == 2  # the other Maria's dots are her own
    reply = room.act("togli", first, {"nota": nid})
    assert reply["messaggio"].startswith("Punto tolto") and reply["stato"]["note"][0]["miei_punti"] == 1
    with pytest.raises(WorkshopError, match="Non avevi punti"):
        room.act("togli", second, {"nota": nid})


def test_rating_saves_the_chosen_subject_and_scores_only(room):
    token = enter(room, "Sindaca", "amministratore")
    reply = room.act("valuta", token, {"oggetto": "Assistenza domiciliare", "punteggi": {"persona": 4, "rete": 2},
                                       "op": new_id()})
    assert reply["messaggio"] == "Valutazione di «Assistenza domiciliare» salvata."
    assert sorted((r["mossa"], r["punteggio"], r["ruolo"]) for r in room.store.ratings()) == [
        ("persona", 4, "amministratore"), ("rete", 2, "amministratore")]
    for bad, message in (({"oggetto": "Altro servizio", "punteggi": {"persona": 4}}, "non è tra quelli"),
                         ({"oggetto": "", "punteggi": {"persona": 4}}, "Scegli il servizio"),
                         ({"oggetto": "Assistenza domiciliare", "punteggi": {"persona": True}}, "Punteggi non validi"),
                         ({"oggetto": "Assistenza domiciliare", "punteggi": {"persona": 9}}, "da 1 a 5"),
                         ({"oggetto": "Assistenza domiciliare", "punteggi": {}}, "almeno un punteggio")):
        with pytest.raises(WorkshopError, match=message):
            room.act("valuta", token, {**bad, "op": new_id()})


def test_request_bodies_are_bounded_and_must_be_objects():
    with pytest.raises(RoomRequestError, match="troppo grande"):
        read_body(b"{" + b" " * MAX_BODY + b"}")
    for raw in (b"[1, 2]", b"{non json", "\ufffe".encode("utf-16")):
        with pytest.raises(RoomRequestError, match="non leggibile"):
            read_body(raw)


def test_a_new_run_of_the_district_reopens_the_room(tmp_path, room):
    assert open_room(tmp_path) is room
    (tmp_path / "laboratorio.json").write_text(json.dumps({**SETUP, "punti": 3}), encoding="utf-8")
    again = open_room(tmp_path)
    assert again is not room and again.page()["punti"] == 3
    again.store.close()

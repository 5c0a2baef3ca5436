"""Workshop identity (issue 18): participants are tokens, not nicknames; edits of voted notes keep their credit."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.workshop.store import Store, WorkshopError, new_token, participant_key


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "lab.sqlite", name="Prova", dots=2)
    yield s
    s.close()


def test_same_nickname_is_two_participants(store):
    maria, other = new_token(), new_token()
    assert store.join(maria, "Maria", "tecnico") == ""
    warning = store.join(other, "MARIA ", "cittadino")
    assert "«MARIA» è già usato da un altro partecipante" in warning
    assert store.join(maria, "Maria", "tecnico") != ""  # the first Maria is warned too, on entering again
    note = store.add_note("Maria", "tecnico", "criticità", "Attese lunghe", token=maria)
    for action in (lambda: store.edit_note(note, "Maria", "Testo dell'altra", token=other),
                   lambda: store.delete_note(note, "Maria", token=other),
                   lambda: store.edit_note(note, "Maria", "Senza identità")):  # the nickname alone is not enough
        with pytest.raises(WorkshopError, match="solo le tue note"):
            action()
    assert [n["testo"] for n in store.notes()] == ["Attese lunghe"]
    assert store.edit_note(note, "Maria", "Attese lunghe per il SAD", token=maria)
    # each Maria has her own dots
    assert store.vote("Maria", "tecnico", note, token=maria) and store.vote("Maria", "tecnico", note, token=maria)
    with pytest.raises(WorkshopError, match="tutti i tuoi 2 punti"):
        store.vote("Maria", "tecnico", note, token=maria)
    assert store.votes_left("Maria", token=other) == 2
    assert store.vote("maria", "cittadino", note, token=other)
    assert store.my_votes("Maria", token=maria) == {note: 2} and store.my_votes("Maria", token=other) == {note: 1}
    assert store.counts()["partecipanti"] == 2
    store.join(new_token(), "Ugo", "altro")  # joined, nothing written yet: in the room all the same
    assert store.counts()["partecipanti"] == 3


def test_token_is_kept_as_a_digest_and_restores_the_participant(store):
    token = new_token()
    assert store.participant(token) is None
    store.join(token, "Luca", "amministratore")
    store.join(token, "Luca B.", "amministratore")  # a new nickname for the same person
    assert store.participant(token) == {"nome": "Luca B.", "ruolo": "amministratore"}
    note = store.add_note("Luca B.", "amministratore", "proposta", "Bus serale", token=token)
    stored = [tuple(r) for t in ("note", "partecipanti") for r in store.db.execute(f"SELECT * FROM {t}")]
    assert all(token not in str(r) for r in stored)  # exports never carry the secret
    assert store.notes()[0]["partecipante"] == participant_key(token) != participant_key(new_token())
    assert note
    for bad in ("", "corto", "x" * 101, "<script>alert(1)</script>aaaaaaaaaaaa"):
        with pytest.raises(WorkshopError, match="non valido"):
            store.add_note("Luca", "tecnico", "proposta", "testo", token=bad or "?")


def test_edit_after_votes_says_so_and_credits_each_version(store):
    anna = new_token()
    note = store.add_note("Anna", "tecnico", "proposta", "Sportello unico", token=anna)
    store.vote("Bea", "tecnico", note)
    store.vote("Carlo", "cittadino", note)
    assert store.notes()[0]["punti_prima"] == 0
    store.edit_note(note, "Anna", "Sportello unico con orari serali", token=anna)
    store.vote("Dario", "tecnico", note)
    current = store.notes()[0]
    assert (current["punti"], current["punti_prima"], current["versione"]) == (3, 2, 2)
    assert [(v["versione"], v["testo"], v["chi"], v["punti"]) for v in store.versions(note)] == [
        (1, "Sportello unico", "Anna", 2), (2, "Sportello unico con orari serali", "Anna", 1)]
    store.unvote("Bea", note)
    assert store.notes()[0]["punti_prima"] == 1


def test_store_of_the_previous_version_is_upgraded_not_refused(tmp_path):
    """A workshop store written before identities (no ``partecipanti``, no ``voti.versione``) still opens."""
    path = tmp_path / "laboratorio-vecchio.sqlite"
    store = Store(path, name="Vecchio")
    note = store.add_note("Anna", "tecnico", "proposta", "Bus")
    store.vote("Bea", "tecnico", note)
    store.close()
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE partecipanti; DROP INDEX voti_nota; ALTER TABLE voti DROP COLUMN versione; "
                     "CREATE INDEX voti_nota ON voti(nota);")
    db.close()
    before = path.read_bytes()
    readonly = Store(path, readonly=True)  # read through an upgraded copy in memory, file untouched
    assert readonly.notes()[0]["punti"] == 1 and readonly.versions(note)[0]["punti"] == 1
    readonly.close()
    assert path.read_bytes() == before
    upgraded = Store(path)
    assert upgraded.notes()[0]["punti_prima"] == 0
    upgraded.join(new_token(), "Carla", "cittadino")
    columns = {r[1] for r in upgraded.db.execute("PRAGMA table_info(voti)")}
    assert "versione" in columns
    upgraded.close()


def test_export_credits_both_versions_of_a_note_edited_after_votes(tmp_path):
    import mistune

    from workbench.workshop.export import export_workshop

    path = tmp_path / "laboratorio-prova.sqlite"
    store = Store(path, name="Prova")
    anna = new_token()
    note = store.add_note("Anna", "tecnico", "proposta", "Sportello <unico>", token=anna)
    for who in ("Bea", "Carlo"):
        store.vote(who, "tecnico", note)
    store.edit_note(note, "Anna", "Sportello unico serale", token=anna)
    store.vote("Dario", "tecnico", note)
    store.add_note("Eva", "cittadino", "criticità", "Mai modificata")
    store.close()
    out = tmp_path / "export"
    export_workshop(path, out, log=lambda *_: None)
    page = next(out.glob("laboratorio-prova.html")).read_text(encoding="utf-8")
    section = page[page.index("Note modificate dopo i voti"):page.index("Note per tema")]
    assert "Versione 1 di Anna (prima della modifica): «Sportello &lt;unico&gt;» — 2 punti ricevuti" in section
    assert "Versione 2 di Anna (testo attuale): «Sportello unico serale» — 1 punto ricevuto" in section
    assert "Mai modificata" not in section
    md = mistune.html(next(out.glob("laboratorio-prova.md")).read_text(encoding="utf-8"))
    assert "Versione 1 di Anna (prima della modifica): «Sportello &lt;unico&gt;» — 2 punti ricevuti" in md

"""The workshop room without a kernel (issue 18): the notes of a district with only the required tables, and the
server starting no kernel for the room."""

from __future__ import annotations

from workbench.sqlstore import new_id
from workbench.workshop.room import Room


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
    cruscotti = tmp_path / "report" / "cremasco" / "cruscotti"
    setup = prepare_workshop(load_workspace(demo_copy), "Solo obbligatorie", "2025-03-12", output=cruscotti)
    assert setup["riferimenti"]["sub_ambito"] == ["Nord", "Sud"] and setup["riferimenti"]["attore"] == []
    room = Room(cruscotti)
    token = room.act("entra", "", {"nome": "Sindaca", "ruolo": "amministratore"})["token"]
    assert [r[0] for r in room.page()["riferimenti"]] == ["ambito", "comune", "sub_ambito", "area"]
    for target, value in (("comune", "Crema"), ("sub_ambito", "Sud"), ("ambito", "")):
        room.act("nota", token, {"tipo": "criticità", "riferimento": target, "valore": value,
                                 "testo": f"Criticità su {target}", "op": new_id()})
    assert sorted((n["riferimento"], n["valore"]) for n in room.store.notes()) == [
        ("ambito", ""), ("comune", "Crema"), ("sub_ambito", "Sud")]
    assert room.page()["oggetti"] == setup["oggetti"]
    room.store.close()


def test_the_room_starts_no_kernel_of_its_own(demo_reports, monkeypatch):
    """The room's page is served by the server itself: no pool of participant kernels, on the room's network
    or not, and the facilitator's page is never preheated."""
    from workbench.run import serve

    commands = []
    monkeypatch.setattr(serve, "run_until_stopped", lambda command, env: commands.append(command) or 0)
    serve.serve_dashboards(demo_reports, lan=True)
    serve.serve_dashboards(demo_reports, lan=False)
    for command in commands:
        assert not any("kernel_pools" in a or "room" in a for a in command)
        denied = next(a for a in command if a.startswith("--VoilaKernelManager.preheat_denylist="))
        assert "'facilitatore.ipynb'" in denied
    assert "--KernelManager.transport=ipc" in commands[0]

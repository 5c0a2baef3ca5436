"""Serving safely and interrupted runs (issue 8)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from workbench.run.serve import FACILITATOR_ENV, TOKEN_ENV, voila_command, voila_env

pytestmark = pytest.mark.slow


def status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_voila_binds_localhost_and_lan_needs_token(tmp_path):
    local = voila_command(tmp_path, 8866)
    assert "--Voila.ip=127.0.0.1" in local and "--show_tracebacks=False" in local
    assert "--strip_sources=True" in local
    lan = voila_command(tmp_path, 8866, lan=True)
    assert "--Voila.ip=0.0.0.0" in lan
    env = voila_env(token="segreto", facilitator_key="chiave")
    assert env[TOKEN_ENV] == "segreto" and env[FACILITATOR_ENV] == "chiave"  # by environment, not on argv


@pytest.mark.parametrize("path", [
    "voila/render/..%2F..%2Fmanifest.json", "voila/files/..%2Fmanifest.json", "voila/files/../manifest.json",
    "voila/render/%2Fetc%2Fpasswd", "voila/files/%2Fetc%2Fpasswd", "voila/tree/..%2F..", "../../etc/passwd",
    "voila/files/disagio.json",
])
def test_nothing_outside_the_dashboards_is_served(voila_url, path):
    code, body = status(voila_url + path)
    assert "root:x:" not in body and '"distretto"' not in body and '"versione"' not in body
    assert code in (403, 404) or (code == 200 and "Voil" in body)


def test_dashboard_source_code_is_not_shown(voila_url):
    code, body = status(voila_url + "voila/render/disagio.ipynb")
    assert code == 200
    assert "distress_page(cartella_dati)" not in body and "from workbench" not in body


def test_sigint_leaves_no_half_written_report(demo_copy, tmp_path):
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "esegui", str(demo_copy), "--out", str(reports),
                             "--silenzioso"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.parent.name.startswith(".") for p in reports.glob("*/report")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # the notebooks have started (the run takes a few seconds)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert not (reports / demo_copy.name).exists()
    assert [p.name for p in reports.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []


WRITER = """
import sys
from workbench.workshop.store import Store
store = Store(sys.argv[1], name="Prova")
for i in range(100000):
    note = store.add_note(f"p{i % 7}", "tecnico", "proposta", f"nota {i}", "ambito", "")
    print(note, flush=True)  # printed only after the commit: a confirmed note
"""


def test_workshop_store_survives_a_killed_writer(tmp_path):
    from workbench.workshop.store import Store

    path = tmp_path / "lab.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    confirmed = []
    while len(confirmed) < 300:
        confirmed.append(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)  # killed mid-stream, possibly inside a transaction
    proc.wait(timeout=30)
    confirmed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    store = Store(path)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {n["id"] for n in store.notes()}
    assert set(confirmed) <= stored
    assert len(stored) in (len(confirmed), len(confirmed) + 1)  # at most the one not yet confirmed
    backup = store.backup(tmp_path / "copia.sqlite")
    assert Store(backup, readonly=True).db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

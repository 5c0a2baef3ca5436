"""``workbench lab`` (issue 18): Italian JupyterLab without the news question, as root in a container, on a copy
of the notebooks in a user folder; it serves /lab with its token and SIGTERM/SIGINT stop it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from workbench.run import lab
from workbench.paths import NOTEBOOKS

from tests.conftest import free_port, wait_http

pytestmark = pytest.mark.slow


def _hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(NOTEBOOKS.glob("*.ipynb"))}


def test_copy_of_the_notebooks_keeps_the_technicians_work(tmp_path):
    folder = lab.user_notebooks(tmp_path / "nb")
    names = sorted(p.name for p in NOTEBOOKS.glob("0*.ipynb"))
    assert sorted(p.name for p in folder.glob("*.ipynb")) == names
    (folder / names[0]).write_text("modificato", encoding="utf-8")
    lab.user_notebooks(folder)
    assert (folder / names[0]).read_text(encoding="utf-8") == "modificato"
    with pytest.raises(lab.WorkbenchError, match="notebook originali"):
        lab.user_notebooks(NOTEBOOKS)


def test_settings_choose_italian_and_turn_the_news_off(tmp_path):
    settings = lab.lab_settings(tmp_path)
    language = json.loads((settings / "@jupyterlab/translation-extension/plugin.jupyterlab-settings").read_text())
    news = json.loads((settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings").read_text())
    assert language == {"locale": "it_IT"} and news["fetchNews"] == "false"


def _start(tmp_path, port: int):
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "JUPYTER_PLATFORM_DIRS": "1", "BROWSER": "true"}
    return subprocess.Popen([sys.executable, "-m", "workbench", "lab", "--porta", str(port), "--notebook",
                             str(tmp_path / "nb")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(proc, timeout: float = 180) -> tuple[str, list[str]]:
    lines, deadline = [], time.time() + timeout
    for line in proc.stdout:
        lines.append(line)
        found = re.search(r"JupyterLab è pronto: (\S+)", line)
        if found:
            return found[1], lines
        assert time.time() < deadline, lines
    raise AssertionError("".join(lines) + proc.stderr.read())


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.read().decode("utf-8", "replace")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_lab_serves_in_italian_on_a_copy_and_stops_on_a_signal(tmp_path, signum):
    import psutil

    before = _hashes()
    port = free_port()
    proc = _start(tmp_path, port)
    try:
        url, lines = _wait_ready(proc)
        assert url.startswith(f"http://127.0.0.1:{port}/lab?token=")
        said = "".join(lines)
        assert "Notebook di lavoro in" in said and "originali del programma non vengono modificati" in said
        if os.geteuid() == 0:
            assert "root" in said and "--allow-root" in said
        wait_http(url, timeout=60)
        status, page = _get(url)
        assert status == 200 and "JupyterLab" in page
        token = url.split("token=")[1]
        _, settings = _get(f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/translation-extension:plugin"
                           f"?token={token}")
        assert json.loads(settings)["settings"]["locale"] == "it_IT"
        _, packs = _get(f"http://127.0.0.1:{port}/lab/api/translations?token={token}")
        assert "it_IT" in json.loads(packs)["data"]
        _, contents = _get(f"http://127.0.0.1:{port}/api/contents?token={token}")
        assert {"01_disagio.ipynb"} <= {c["name"] for c in json.loads(contents)["content"]}
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(children, timeout=40)
        assert alive == []
        rest = proc.stdout.read() + proc.stderr.read()
        assert "Traceback" not in rest and "[I " not in rest and "Server chiuso." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _hashes() == before  # the shipped notebooks are untouched
    assert (tmp_path / "nb" / "01_disagio.ipynb").is_file()

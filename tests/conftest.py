"""Shared fixtures: small workspaces, a demo run, a Voila server and an offline headless Chromium."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from workbench.paths import DEMO

#: The script that computed the reference fixtures needs scipy and statsmodels, which the suite does not.
collect_ignore = ["fixtures/reference/generate.py"]
CHROMIUM = "/usr/bin/chromium"
FACILITATOR_KEY = "chiave-del-facilitatore-di-prova"  # the facilitator page's secret on the test servers
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "file:", "data:",
         "about:", "blob:")


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A writable copy of the Cremasco demo workspace."""
    target = tmp_path / "cremasco"
    shutil.copytree(DEMO / "cremasco", target)
    return target


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory) -> Path:
    """Reports folder produced by running every notebook on the demo district (papermill)."""
    from workbench.run.runner import run_district

    reports = tmp_path_factory.mktemp("reports")
    run_district(DEMO / "cremasco", reports, progress=False, log=lambda *_: None)
    return reports


def _start_together(writer, path: str, worker, start, errors) -> None:
    start.wait()
    try:
        writer(path, worker)
    except Exception as exc:  # reported to the parent
        errors.put(f"{worker}: {exc!r}")


def write_at_once(path: Path, workers: list, writer) -> sqlite3.Connection:
    """Run ``writer(path, worker)`` in one forked process per worker, all released at the same moment;
    asserts that every process ended without error and the store is a sound WAL file; returns it opened."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_start_together, args=(writer, str(path), w, start, errors)) for w in workers]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(timeout=180)
    assert all(proc.exitcode == 0 for proc in procs)
    assert errors.empty(), errors.get()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server not answering at {url}")


@contextmanager
def local_voila(reports: Path):
    """A ``workbench mostra``-equivalent Voila on ``reports`` (local, facilitator key ``FACILITATOR_KEY``): its URL."""
    from workbench.run.serve import dashboard_root, voila_command, voila_env

    port = free_port()
    proc = subprocess.Popen(voila_command(dashboard_root(reports), port), env=voila_env(facilitator_key=FACILITATOR_KEY),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def voila_url(demo_reports):
    """Base URL of ``workbench mostra``-equivalent Voila serving the demo reports."""
    with local_voila(demo_reports) as url:
        yield url


@pytest.fixture(scope="session")
def facilitator_key() -> str:
    """The key of the facilitator page on the ``voila_url`` server (``?chiave=``)."""
    return FACILITATOR_KEY


@pytest.fixture(scope="session")
def playwright():
    """The one playwright driver of the session (a second ``sync_playwright()`` cannot start inside it)."""
    if not Path(CHROMIUM).exists():
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's headless Chromium driven by playwright (never a downloaded browser)."""
    b = playwright.chromium.launch(executable_path=CHROMIUM,
                                   args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    yield b
    b.close()


def offline_page(browser, blocked: list[str] | None = None, **options):
    """A new page (in its own context, ``options`` as playwright's) whose non-local requests are aborted
    and recorded in ``page.blocked`` (the list ``blocked`` when given, to share it between pages)."""
    context = browser.new_context(locale="it-IT", **options)
    pg_blocked = [] if blocked is None else blocked

    def route(r):
        if r.request.url.startswith(LOCAL):
            return r.continue_()
        pg_blocked.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.blocked = pg_blocked
    return pg


@pytest.fixture
def page(browser):
    """A page whose non-local requests are aborted; ``page.blocked`` lists them."""
    pg = offline_page(browser, viewport={"width": 1300, "height": 1000})
    yield pg
    pg.context.close()

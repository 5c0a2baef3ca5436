"""The server of ``workbench mostra``: Voila serving only the dashboards, in Italian, to known hosts only.

Run as ``python -m workbench.run.voila_app ROOT [Voila options]`` (see :func:`workbench.run.serve.voila_command`).
Compared with plain Voila:

- only the dashboards listed in the districts' manifests render (:func:`workbench.run.serve.served_districts`);
  any other path under ``/voila/render/`` is a 404 before a kernel starts, so an executed analysis
  notebook is never re-run from a URL; Voila's directory listing and contents API are gone;
- the facilitator page needs its own key (``?chiave=``), separate from the participants' token;
- requests whose ``Host`` is not this machine are refused (DNS rebinding), token or not;
- ``?theme=`` and ``?template=`` are ignored (they were reflected into the page and could load a CDN);
- ``/`` is an Italian landing page; 404, error and login pages are Italian;
- ``/sala/<district folder>/`` is the workshop room's participant page, without a kernel: a page of our own
  that calls ``/sala/<district folder>/api/<azione>`` (:mod:`workbench.workshop.room`), behind the same token,
  ``Host`` check and XSRF check as the rest;
- a busy port is an Italian message, and the address is printed only once the server listens.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
import tornado.ioloop
import tornado.web
from jupyter_core.utils import run_sync
from jupyter_server.utils import url_path_join
from jupyter_server import DEFAULT_TEMPLATE_PATH_LIST
from jupyter_server.base.handlers import APIHandler, Template404
from traitlets import default
from voila.app import Voila
from voila.execute import VoilaExecutor
from voila.handler import BaseVoilaHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from markupsafe import Markup

from workbench.run.serve import (FACILITATOR_ENV, TEMPLATE_DIR, TOKEN_ENV, allowed_hosts, dashboard_paths, notebook_title,
                                 room_folder, served_districts)
from workbench.sqlstore import StoreError
from workbench.ui.saving import BUSY
from workbench.workshop.html import documents_html
from workbench.workshop.room import ACTIONS, Room, open_room, read_body
from workbench.workshop.store import PersonalDataWarning

IGNORED_ARGUMENTS = ("theme", "template")  # overrides are off; dropped so preheated kernels are still used
CELL_ERROR = ("Questa parte del cruscotto non si è potuta mostrare. Chi ha preparato il report trova il "
              "dettaglio nel registro di «workbench mostra».")


class Refused(tornado.web.HTTPError):
    """An HTTP error whose page says, in Italian, why."""

    def __init__(self, status: int, messaggio: str):
        super().__init__(status)
        self.messaggio = messaggio


class LandingHandler(BaseVoilaHandler):
    """``/``: each district's dashboards as cards, and the readings that are not available."""

    @tornado.web.authenticated
    def get(self):
        districts = served_districts(self.settings["workbench_root"])
        self.write(self.render_template("landing.html", districts=districts))


class DashboardHandler(TornadoVoilaHandler):
    """``/voila/render/PATH``: only the served dashboards; the reserved pages only with the facilitator's key."""

    @tornado.web.authenticated
    async def get(self, path=None):
        districts = served_districts(self.settings["workbench_root"])
        if path not in dashboard_paths(districts):
            raise tornado.web.HTTPError(404)
        if any(path in d.reserved for d in districts) and not self._facilitator():
            raise Refused(403, "Questa pagina è riservata a chi conduce il laboratorio: si apre con "
                               "l'indirizzo completo stampato all'avvio di «workbench mostra».")
        for name in IGNORED_ARGUMENTS:
            self.request.arguments.pop(name, None)
            self.request.query_arguments.pop(name, None)
        await super().get(path)

    def _facilitator(self) -> bool:
        key = self.settings["facilitator_key"]
        given = self.get_query_argument("chiave", "")
        return bool(key) and hmac.compare_digest(given.encode(), key.encode())


#: The rooms' stores are used from this one thread: the server's loop never waits on SQLite, and each store's
#: connection serves one request at a time.
ROOM_THREAD = ThreadPoolExecutor(1, thread_name_prefix="wb-sala")
#: Header carrying the participant's token (kept by their browser), so that it never lands in an address or a log.
TOKEN_HEADER = "X-Partecipante"
API_ERRORS = {400: "Richiesta non valida: ricarica la pagina.",
              403: "Accesso non consentito: apri l'indirizzo della sala stampato da «workbench mostra», con il "
                   "suo codice, e ricarica la pagina.",
              404: "Questo laboratorio non è servito qui.", 405: "Richiesta non consentita."}


def _room(root: Path, name: str) -> Room:
    """The room of a served district (in :data:`ROOM_THREAD`), or an Italian error."""
    folder = room_folder(root, name)
    if folder is None:
        raise tornado.web.HTTPError(404)
    try:
        return open_room(folder)
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        raise Refused(503, str(exc) if isinstance(exc, StoreError) else
                      "L'archivio del laboratorio non si apre: chi conduce il laboratorio trova il dettaglio nel "
                      "registro di «workbench mostra».") from exc


class RoomPageHandler(BaseVoilaHandler):
    """``/sala/<district folder>/``: the participant page of the workshop room (no kernel, no widgets)."""

    @tornado.web.authenticated
    async def get(self, name: str):
        room = await tornado.ioloop.IOLoop.current().run_in_executor(
            ROOM_THREAD, _room, self.settings["workbench_root"], name)
        setup = room.setup
        data = json.dumps(room.page(), ensure_ascii=False).replace("<", "\\u003c")
        self.write(self.render_template(
            "sala.html", room=room.page(), data=Markup(data), xsrf=self.xsrf_token.decode(),
            documents=Markup(documents_html(setup["documenti"], setup.get("documenti_dimostrativi", False)))))


class RoomApiHandler(APIHandler):
    """``/sala/<district folder>/api/<azione>``: ``GET stato``, ``POST`` one of :data:`ACTIONS`; JSON, Italian.

    The participant's token comes in the :data:`TOKEN_HEADER` header; a write refused by the store answers
    400 with ``errore``, a note to confirm (personal data) 409 with ``avviso``, a busy store 503."""

    @tornado.web.authenticated
    async def get(self, name: str, action: str):
        if action != "stato":
            raise tornado.web.HTTPError(404)
        await self._answer(name, lambda room, token: room.state(token))

    @tornado.web.authenticated
    async def post(self, name: str, action: str):
        if action not in ACTIONS:
            raise tornado.web.HTTPError(404)
        try:
            data = read_body(self.request.body)
        except StoreError as exc:
            raise Refused(400, str(exc)) from exc
        await self._answer(name, lambda room, token: room.act(action, token, data))

    async def _answer(self, name: str, call) -> None:
        token, root = self.request.headers.get(TOKEN_HEADER, ""), self.settings["workbench_root"]
        try:
            reply = await tornado.ioloop.IOLoop.current().run_in_executor(
                ROOM_THREAD, lambda: call(_room(root, name), token))
        except PersonalDataWarning as exc:
            self.set_status(409)
            reply = {"avviso": str(exc)}
        except StoreError as exc:
            self.set_status(400)
            reply = {"errore": str(exc)}
        except sqlite3.Error:
            self.set_status(503)
            reply = {"errore": BUSY}
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(reply, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs):
        """Italian JSON, never a traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if status_code == 403 and self.current_user:  # signed in, but without the page's XSRF code
            exc = Refused(403, "La richiesta non viene dalla pagina della sala: ricarica la pagina e riprova.")
        message = getattr(exc, "messaggio", "") or API_ERRORS.get(status_code, "La richiesta non è andata a buon "
                                                                               "fine: riprova tra poco.")
        self.finish(json.dumps({"errore": message}, ensure_ascii=False))


def _italian_cell_error(self, cell):
    """Voila's ``VoilaExecutor.strip_code_cell_errors`` with an Italian message (Voila's is English and fixed)."""
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            output.update(ename="Errore", evalue="", traceback=[CELL_ERROR])
    return cell


VoilaExecutor.strip_code_cell_errors = _italian_cell_error


class WrongHostHandler(tornado.web.RequestHandler):
    """Any request whose ``Host`` is not this machine (a page that rebinds its domain to us)."""

    def prepare(self):
        self.set_status(403)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish('<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>Accesso non consentito'
                    "</title></head><body><h1>Accesso non consentito</h1><p>Questo indirizzo non è quello dei "
                    "cruscotti: apri l'indirizzo stampato da «workbench mostra».</p></body></html>")


class WorkbenchVoila(Voila):
    """Voila for ``workbench mostra`` (see the module's docstring)."""

    @default("token")
    def _token_from_env(self):
        return os.environ.get(TOKEN_ENV) or None

    @default("log_level")
    def _warnings_only(self):  # Voila's English progress lines are not for the room
        return logging.WARNING

    def initialize(self, argv=None):
        super().initialize(argv)
        conf = self.voila_configuration  # forced: no config file may turn them back on
        conf.allow_theme_override = conf.allow_template_override = "NO"
        conf.strip_sources, conf.show_tracebacks = True, False

    @property
    def lan(self) -> bool:
        return self.ip in ("", "0.0.0.0")

    def init_settings(self) -> dict:
        settings = super().init_settings()
        pages = jinja2.Environment(loader=jinja2.FileSystemLoader([str(TEMPLATE_DIR), *DEFAULT_TEMPLATE_PATH_LIST]),
                                   extensions=["jinja2.ext.i18n"], autoescape=True)
        pages.install_null_translations(newstyle=False)
        settings.update(jinja2_env=pages, workbench_root=Path(self.root_dir),
                        facilitator_key=os.environ.get(FACILITATOR_ENV, ""))
        return settings

    def init_handlers(self) -> list:
        """Voila's handlers without its listing and contents API, rendering through :class:`DashboardHandler`,
        behind our landing page and followed by an Italian 404 for any other path."""
        handlers = []
        for rule in super().init_handlers():
            if rule[1] in (TornadoVoilaTreeHandler, VoilaContentsHandler):
                continue
            handlers.append((rule[0], DashboardHandler, *rule[2:]) if rule[1] is TornadoVoilaHandler else rule)
        conf = {"voila_configuration": self.voila_configuration}
        room = url_path_join(self.server_url, "sala/([^/]+)/")
        return [(self.server_url, LandingHandler, conf), (room, RoomPageHandler, conf),
                (room + "api/([a-z]+)", RoomApiHandler), *handlers, (r".*", Template404)]

    def start(self):
        """Voila's ``start`` with the handlers bound to the allowed host names only."""
        self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
        self.app = tornado.web.Application(**self.init_settings())
        self.app.settings.update(self.tornado_settings)
        hosts = "|".join(re.escape(h) for h in allowed_hosts(self.lan))
        self.app.add_handlers(f"^(?:{hosts})$", self.init_handlers())
        self.app.add_handlers(".*$", [(r".*", WrongHostHandler)])
        self.listen()

    def listen(self):
        """Listen on the one port asked for (Italian message if busy), print the addresses, serve."""
        try:
            self.app.listen(self.port, self.ip)
        except OSError as exc:
            shutil.rmtree(self.connection_dir, ignore_errors=True)
            if exc.errno == errno.EADDRINUSE:
                sys.exit(f"La porta {self.port} è già occupata da un altro programma (forse un altro "
                         f"«workbench mostra»): chiudilo, o scegli un'altra porta con --porta {self.port + 1}.")
            if exc.errno == errno.EACCES:
                sys.exit(f"Non è permesso usare la porta {self.port}: scegline una sopra 1024 con --porta.")
            raise
        local = f"http://127.0.0.1:{self.port}{self.base_url}"
        print(self.addresses(local), flush=True)
        if self.open_browser:
            webbrowser.open(local)
        self.ioloop = tornado.ioloop.IOLoop.current()
        try:
            self.ioloop.start()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self):
        """Voila's ``stop``, tolerant of kernels that end while it shuts them all down (preheated pools refill
        concurrently: Voila's ``shutdown_all`` then raises 404 for one of them and leaves the others running)."""
        shutil.rmtree(self.connection_dir, ignore_errors=True)
        for _ in range(3):
            try:
                run_sync(self.kernel_manager.shutdown_all)()
                return
            except tornado.web.HTTPError:
                continue

    def addresses(self, local: str) -> str:
        """What to print once listening: where to open the dashboards and the facilitator's pages."""
        token = f"?token={self.token}" if self.token else ""
        lines = [f"Cruscotti pronti. Apri nel browser: {local}{token}"]
        lan = [local.replace("127.0.0.1", ip) for ip in allowed_hosts(True)[2:] if ip[0].isdigit()] if self.lan else []
        lines += [f"Dalla rete della sala: {address}{token}" for address in lan]
        for district in served_districts(self.root_dir):
            lines += [f"{card.title} di {district.name}, per i partecipanti: {address}sala/{quote(card.room)}/{token}"
                      for card in district.cards if card.room for address in (lan or [local])]
        key = self.app.settings["facilitator_key"]
        query = urlencode({"token": self.token, "chiave": key} if self.token else {"chiave": key})
        for district in served_districts(self.root_dir) if key else ():
            for page in district.reserved:
                title = notebook_title(Path(self.root_dir) / page, "Pagina del facilitatore")
                lines.append(f"{title} di {district.name} (riservata, non condividerla): "
                             f"{local}voila/render/{quote(page)}?{query}")
        return "\n".join([*lines, "(Ctrl+C per chiudere)"])


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":
    main()

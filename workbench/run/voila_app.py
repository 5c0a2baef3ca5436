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
- a busy port is an Italian message, and the address is printed only once the server listens.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import re
import shutil
import sys
import tempfile
import webbrowser
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
import tornado.ioloop
import tornado.web
from jupyter_core.utils import run_sync
from jupyter_server import DEFAULT_TEMPLATE_PATH_LIST
from jupyter_server.base.handlers import Template404
from traitlets import Int, default
from voila.app import Voila
from voila.execute import VoilaExecutor
from voila.handler import BaseVoilaHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from workbench.run.serve import (FACILITATOR_ENV, ROOM_PAGE, ROOM_SPARES, TEMPLATE_DIR, TOKEN_ENV, allowed_hosts,
                    dashboard_paths, notebook_title, served_districts)

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

    room_pool = Int(0, config=True, help="Participant pages of the workshop room preheated before the room "
                                         "arrives (see workbench.run.serve.ROOM_POOL).")

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
        if self.room_pool > 0:  # read by the kernel manager that Voila creates below
            self.config.VoilaKernelManager.kernel_pools_config = {
                "default": {"pool_size": self.voila_configuration.default_pool_size},
                ROOM_PAGE: {"pool_size": self.room_pool}}
        settings = super().init_settings()
        pages = jinja2.Environment(loader=jinja2.FileSystemLoader([str(TEMPLATE_DIR), *DEFAULT_TEMPLATE_PATH_LIST]),
                                   extensions=["jinja2.ext.i18n"], autoescape=True)
        pages.install_null_translations(newstyle=False)
        settings.update(jinja2_env=pages, workbench_root=Path(self.root_dir),
                        facilitator_key=os.environ.get(FACILITATOR_ENV, ""))
        self._spare_room_pages()
        return settings

    def _spare_room_pages(self) -> None:
        """Once a participant takes a page from the room's pool, the pool is refilled only up to
        :data:`ROOM_SPARES`: replacing all 40 while the room is typing would slow every page."""
        manager = self.kernel_manager
        fill = getattr(manager, "fill_if_needed", None)
        if fill is None or ROOM_PAGE not in manager.kernel_pools_config:
            return

        def refill(delay=None, notebook_name=None, **kwargs):
            pools = manager.kernel_pools_config
            if notebook_name == ROOM_PAGE and pools[ROOM_PAGE].get("pool_size", 0) > ROOM_SPARES:
                manager.kernel_pools_config = {**pools, ROOM_PAGE: {**pools[ROOM_PAGE], "pool_size": ROOM_SPARES}}
            return fill(delay=delay, notebook_name=notebook_name, **kwargs)

        manager.fill_if_needed = refill

    def init_handlers(self) -> list:
        """Voila's handlers without its listing and contents API, rendering through :class:`DashboardHandler`,
        behind our landing page and followed by an Italian 404 for any other path."""
        handlers = []
        for rule in super().init_handlers():
            if rule[1] in (TornadoVoilaTreeHandler, VoilaContentsHandler):
                continue
            handlers.append((rule[0], DashboardHandler, *rule[2:]) if rule[1] is TornadoVoilaHandler else rule)
        conf = {"voila_configuration": self.voila_configuration}
        return [(self.server_url, LandingHandler, conf), *handlers, (r".*", Template404)]

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
        if self.lan:
            lines += [f"Dalla rete della sala: {local.replace('127.0.0.1', ip)}{token}"
                      for ip in allowed_hosts(True)[2:] if ip[0].isdigit()]
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

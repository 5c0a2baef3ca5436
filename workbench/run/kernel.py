"""Jupyter kernels for district runs: one per district, kept warm for the next district of a batch.

papermill starts a kernel per notebook by default: each of a district's notebooks would start
Python, import pandas, Altair and networkx and load the workspace again. :func:`district_kernel`
gives papermill (``km=``) one kernel for all the notebooks of a district; it imports the heavy
libraries as it starts, while the runner validates the workspace. Every notebook gets the same
connected client; before each notebook :meth:`DistrictKernel.fresh` empties the namespace and
restarts the cell count, so a notebook sees only its own variables and its own cell numbers.

In a batch (``keep=True``) the kernel of a district that completed is kept for the next district
run by the same process; a district that failed gets its kernel shut down. Modules stay imported
between districts: notebooks must not change global settings of the libraries they use.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import threading
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop, run_sync

__all__ = ["district_kernel", "DistrictKernel"]

KERNEL = "python3"
# Run by the kernel as it starts; workbench first, so that its import guard keeps Altair light.
PRELOAD = "import workbench.distress.charts, workbench.privacy, networkx"
# No output cache (``_``, ``Out``) and no history: papermill reads neither. Flushing the cache made every reset
# run a full garbage collection (80 ms with pandas, Altair and networkx loaded), and each reset wrote a new history
# session to IPython's SQLite file (40 ms of disk), which grew with every cell of every district.
QUIET_SHELL = ("--InteractiveShell.cache_size=0", "--HistoryManager.enabled=False")
RESET = "get_ipython().reset(new_session=True)"


class ReusedClient(AsyncKernelClient):
    """Channels started and readiness checked once (each check costs 0.2 s of waiting for silence)."""

    ready = False

    def start_channels(self, shell=True, iopub=True, stdin=True, hb=True, control=True) -> None:
        """Once, and without the heartbeat thread: the manager watches the kernel's process."""
        if not self.channels_running:
            super().start_channels(shell, iopub, stdin, False, control)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self.ready:
            await self._async_wait_for_ready(timeout)
            self.ready = True


class DistrictKernel(AsyncKernelManager):
    """The kernel manager given to papermill: it hands out one shared client."""

    shared = None
    district_env: dict[str, str] = {}  # environment variables of the current district, set by fresh()

    def client(self, **kwargs) -> ReusedClient:
        if self.shared is None:
            self.client_factory = ReusedClient
            self.shared = super().client(**kwargs)
            self.shared.start_channels()
        return self.shared

    def fresh(self) -> None:
        """Empty the namespace (imported modules stay), restart the cell count, set the district's variables."""
        client = self.client()
        run_sync(client.wait_for_ready)(timeout=60)
        code = f"{RESET}; __import__('os').environ.update({json.dumps(self.district_env)})"
        reply = run_sync(client.execute_interactive)(code, store_history=False, timeout=60,
                                                      output_hook=lambda _msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel reset failed: {reply['content'].get('evalue')}")

    def close(self) -> None:
        _end_pending_tasks()
        self.client().stop_channels()
        run_sync(self.shutdown_kernel)(now=True)


def _end_pending_tasks() -> None:
    """End quietly the tasks an interrupted notebook left in this thread's loop (they would print errors)."""
    try:
        asyncio.get_running_loop()
        return  # run_sync used a loop of its own in another thread
    except RuntimeError:
        loop = ensure_event_loop()
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


_warm: list[DistrictKernel] = []  # kernels of this process waiting for the next district
_lock = threading.Lock()


def _take(cwd: Path) -> DistrictKernel:
    with _lock:
        while _warm:
            km = _warm.pop()
            if run_sync(km.is_alive)():
                return km
            km.close()
    km = DistrictKernel(kernel_name=KERNEL)
    run_sync(km.start_kernel)(cwd=str(cwd), extra_arguments=[
        f"--IPKernelApp.exec_lines={PRELOAD}", *QUIET_SHELL,
        "--IPKernelApp.log_level=CRITICAL"])  # no warnings on screen
    return km


@atexit.register
def _close_warm() -> None:
    while _warm:
        _warm.pop().close()


@contextmanager
def district_kernel(cwd: Path, env: dict[str, str] | None = None, keep: bool = False):
    """A kernel for the notebooks of one district (the process's warm one if ``keep`` left one).

    ``env``: variables set in the kernel by every :meth:`DistrictKernel.fresh`. With ``keep``,
    the kernel is kept for the next district when this one completes; otherwise it is shut down.
    """
    km = _take(cwd)
    km.district_env = dict(env or {})
    completed = False
    try:
        yield km
        completed = True
    finally:
        if completed and keep:
            with _lock:
                _warm.append(km)
        else:
            km.close()

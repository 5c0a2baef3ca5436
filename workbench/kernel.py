"""One Jupyter kernel for all the notebooks of a district run.

papermill starts a kernel per notebook by default: each of a district's notebooks would start
Python, import pandas, Altair and networkx and load the workspace again. :func:`district_kernel`
starts one kernel, lets it import the heavy libraries while the caller validates the workspace,
and is handed to papermill (``km=``). Every notebook gets the same connected client; between
notebooks :meth:`DistrictKernel.fresh` empties the namespace and restarts the cell count, so
each notebook sees only its own variables and errors name the notebook's own cell numbers.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

__all__ = ["district_kernel", "DistrictKernel"]

KERNEL = "python3"
# Run by the kernel as it starts; workbench first, so that its import guard keeps Altair light.
PRELOAD = "import workbench.charts, networkx"
RESET = "get_ipython().reset(new_session=True)"


class ReusedClient(AsyncKernelClient):
    """Channels started and readiness checked once (each check costs 0.2 s of waiting for silence)."""

    ready = False

    def start_channels(self, *args, **kwargs) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self.ready:
            await self._async_wait_for_ready(timeout)
            self.ready = True


class DistrictKernel(AsyncKernelManager):
    """The kernel manager given to papermill: it hands out one shared client."""

    shared = None

    def client(self, **kwargs) -> ReusedClient:
        if self.shared is None:
            self.client_factory = ReusedClient
            self.shared = super().client(**kwargs)
            self.shared.start_channels()
        return self.shared

    def fresh(self) -> None:
        """Empty the namespace (imported modules stay) and restart the cell count."""
        client = self.client()
        run_sync(client.wait_for_ready)(timeout=60)
        run_sync(client.execute_interactive)(RESET, store_history=False, timeout=60,
                                              output_hook=lambda _msg: None)


@contextmanager
def district_kernel(cwd: Path, env: dict[str, str] | None = None):
    """Start the kernel (it begins importing at once) and shut it down at the end."""
    km = DistrictKernel(kernel_name=KERNEL)
    run_sync(km.start_kernel)(cwd=str(cwd), env={**os.environ, **(env or {})},
                              extra_arguments=[f"--IPKernelApp.exec_lines={PRELOAD}"])
    try:
        yield km
    finally:
        km.client().stop_channels()
        run_sync(km.shutdown_kernel)(now=True)

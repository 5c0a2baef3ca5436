"""The kernel shared by a district's notebooks (and kept warm across a batch's districts)."""

from __future__ import annotations

from jupyter_core.utils import run_sync

from workbench.run import kernel
from workbench.paths import NOTEBOOKS


def _run(km, code: str) -> dict:
    outputs = []
    reply = run_sync(km.client().execute_interactive)(code, timeout=60, output_hook=outputs.append)
    return {"reply": reply["content"], "text": "".join(m["content"].get("text", "") for m in outputs
                                                        if m["msg_type"] == "stream")}


def test_fresh_empties_the_namespace_restarts_counts_and_sets_the_district_variables():
    with kernel.district_kernel(NOTEBOOKS, {"WORKBENCH_PROVA": "uno"}) as km:
        km.fresh()
        assert _run(km, "x = 41")["reply"]["status"] == "ok"
        assert _run(km, "print(x + 1, 'altair' in __import__('sys').modules)")["text"].split() == ["42", "True"]
        km.fresh()
        gone = _run(km, "x")["reply"]
        assert gone["status"] == "error" and gone["ename"] == "NameError"
        assert gone["execution_count"] == 1  # after the failed cell the count restarted
        assert _run(km, "import os; print(os.environ['WORKBENCH_PROVA'])")["text"].strip() == "uno"


def test_a_kept_kernel_serves_the_next_district_and_a_failed_one_is_shut_down():
    with kernel.district_kernel(NOTEBOOKS, keep=True) as first:
        first.fresh()
        pid = _run(first, "import os; print(os.getpid())")["text"].strip()
    with kernel.district_kernel(NOTEBOOKS, {"WORKBENCH_PROVA": "due"}, keep=True) as second:
        second.fresh()
        assert second is first
        assert _run(second, "import os; print(os.getpid(), os.environ['WORKBENCH_PROVA'])")["text"].split() == \
            [pid, "due"]
    try:
        with kernel.district_kernel(NOTEBOOKS, keep=True) as third:
            assert third is first
            raise ValueError("distretto fallito")
    except ValueError:
        pass
    assert not run_sync(third.is_alive)() and kernel._warm == []

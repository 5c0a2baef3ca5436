"""Issue 15, items 4–14: exports escaped, personal data kept out, no traceback, no number silently changed,
no leftovers or races. One test (at least) per numbered item, named after it; the bad-input shapes also
feed the property-based suite in ``tests/test_bad_input.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.paths import DEMO

SCRIPT = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"


def hostile_demo(folder: Path) -> Path:
    """The Cremasco demo with script payloads in the district name and the project families."""
    target = folder / "cremasco"
    shutil.copytree(DEMO / "cremasco", target)
    config = target / "distretto.toml"
    text = config.read_text(encoding="utf-8").replace('nome = "Ambito Cremasco"',
                                                      f"nome = {json.dumps(f'Ambito {SCRIPT} **Cremasco**')}")
    config.write_text(text + f"\nfamiglie_progetto = [{json.dumps(SCRIPT)}, 'lavoro di comunità']\n",
                      encoding="utf-8")
    return target


# -- 4. stored script injection in the HTML reports ------------------------------------------------------

def test_item4_markdown_summaries_escape_district_workshop_and_families():
    import mistune

    from workbench.escape import code_block, markdown
    from workbench.workshop_export import describe_setup

    setup = {"laboratorio": {"nome": SCRIPT, "data": "2025-03-12"}, "distretto": {"nome": SCRIPT},
             "archivio": "laboratori/x.sqlite", "punti": 5, "famiglie": [SCRIPT],
             "riferimenti": {"comune": [], "sub_ambito": [], "area": [], "attore": []}, "grafici": [],
             "oggetti": [], "documenti": []}
    for text in (describe_setup(setup), f"**{markdown(SCRIPT)}**", code_block("``` " + SCRIPT)):
        rendered = mistune.html(text)
        assert "<script" not in rendered and "<img" not in rendered, rendered
    assert "PWNED" in mistune.html(describe_setup(setup))  # shown as text, not dropped


@pytest.mark.slow
@pytest.mark.browser
def test_item4_stored_script_injection_in_html_reports(tmp_path, page):
    from workbench.runner import run_district

    reports = tmp_path / "reports"
    run_district(hostile_demo(tmp_path), reports, {"nome_laboratorio": SCRIPT}, progress=False,
                 log=lambda *_: None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    exported = sorted((reports / "cremasco" / "report").glob("*.html"))
    assert [p.name[:2] for p in exported] == ["01", "02", "03", "04"]
    for html_file in exported:
        page.goto(html_file.as_uri())
        page.wait_for_timeout(500)
        assert page.title() != "PWNED", html_file.name
        assert page.evaluate("document.querySelectorAll('img[src=x], script:not([type])').length") == 0
        assert "<script>document.title" in page.inner_text("body"), html_file.name  # the name, as text
    assert dialogs == [] and page.blocked == []

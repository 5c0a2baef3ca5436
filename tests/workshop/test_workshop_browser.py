"""The workshop room's light page (``/sala/<district>/``) in headless Chromium, network blocked (issue 18): every
note type keeps its fields and is saved as chosen, two participants with one nickname stay two, a refreshed page
is the same participant, phones and laptops."""

from __future__ import annotations

import pytest

from tests.conftest import offline_page
from workbench.workshop.store import NOTE_TYPES, new_id
from workbench.workshop.store import load_setup, open_store

pytestmark = pytest.mark.browser
VIEWPORTS = [(390, 844), (1366, 768)]

#: Elements that stick out of the viewport without a sideways-scrolling container around them.
OUTSIDE = """() => { const W = window.innerWidth, bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || (r.right <= W + 1 && r.left >= -1)) continue;
    let p = el.parentElement, scrolls = false;
    while (p && p !== document.body && !scrolls) {
      const o = getComputedStyle(p).overflowX;
      scrolls = (o === 'auto' || o === 'scroll') && p.getBoundingClientRect().right <= W + 1;
      p = p.parentElement;
    }
    if (!scrolls) bad.push(`${el.tagName}.${el.className} ${Math.round(r.left)}–${Math.round(r.right)}`);
  }
  return {page: document.documentElement.scrollWidth, bad: bad.slice(0, 10)}; }"""


@pytest.fixture
def room(browser):
    """Opens offline pages at a viewport, each in its own browser context (its own storage: another person);
    ``page.blocked`` lists the requests to other machines, aborted."""
    opened = []

    def open_page(width: int = 1366, height: int = 768):
        opened.append(offline_page(browser, viewport={"width": width, "height": height}))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()


@pytest.fixture(scope="module")
def setup(demo_reports):
    return load_setup(demo_reports / "cremasco" / "cruscotti")


def stored(demo_reports, setup, text: str) -> dict:
    store = open_store(demo_reports / "cremasco" / "cruscotti", setup, readonly=True)
    try:
        return next(n for n in store.notes() if n["testo"] == text)
    finally:
        store.close()


def field(page, label: str):
    return page.get_by_label(label, exact=True)


def enter(page, url: str, name: str, role: str = "Tecnico") -> None:
    page.goto(f"{url}sala/cremasco/")
    field(page, "Ruolo").select_option(label=role)
    field(page, "Nome").fill(name)
    page.get_by_role("button", name="Entra").click()
    page.wait_for_selector(f"text=Partecipi come {name}")


def saved(page) -> None:
    """Wait until the note just typed is saved (the form empties its text only then)."""
    page.wait_for_function("() => document.getElementById('testo').value === ''", timeout=15000)
    assert "Nota salvata" in page.locator("#s-nota .wb-ok").inner_text()


def write(page, text: str) -> None:
    page.get_by_role("tab", name="Nota").click()
    page.locator("#testo").fill(text)
    page.get_by_role("button", name="Salva la nota").click()
    saved(page)


def vote(page, text: str, left: int, total: int) -> None:
    page.get_by_role("tab", name="Voto").click()
    pick = page.locator("#scelta")
    pick.select_option(label=pick.locator("option", has_text=text).inner_text())
    page.get_by_role("button", name="Dai un punto").click()
    page.wait_for_selector(f"text=Ti resta 1 punto su {total}" if left == 1 else f"text=Ti restano {left} punti su {total}")


def inside(page, locator) -> bool:
    """The element is wholly on screen (scrolled to when needed)."""
    locator.scroll_into_view_if_needed()
    box, size = locator.bounding_box(), page.viewport_size
    return (box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
            and box["y"] >= 0 and box["y"] + box["height"] <= size["height"])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_note_type_keeps_its_fields_and_is_saved_as_chosen(voila_url, demo_reports, setup, room, viewport):
    page = room(*viewport)
    enter(page, voila_url, f"Tipi {viewport[0]}")
    comune, chart = setup["riferimenti"]["comune"][1], setup["grafici"][0]
    for kind in NOTE_TYPES:
        page.get_by_role("button", name=kind.capitalize(), exact=True).click()
        field(page, "Riferita a").select_option(label="Comune")
        field(page, "Quale").select_option(label=comune)
        field(page, "Grafico").select_option(label=chart["etichetta"])
        family = setup["famiglie"][-1] if kind == "proposta" else ""
        if family:
            field(page, "Famiglia").select_option(label=family)
        for label in ("Riferita a", "Quale", "Grafico"):
            assert field(page, label).is_visible() and inside(page, field(page, label)), (kind, label)
        assert field(page, "Famiglia").is_visible() == (kind == "proposta"), kind
        summary = page.locator(".wb-summary").inner_text()
        assert summary.startswith("Sarà salvata così: ")
        assert f"{kind.capitalize()} · riferita a Comune: {comune} · grafico: {chart['etichetta']}" in summary
        assert (f"famiglia: {family}" in summary) == bool(family)
        text = f"{kind} {viewport[0]} {new_id()[:8]}"
        field(page, "Il tuo contributo").fill(text)
        save = page.get_by_role("button", name="Salva la nota")
        assert inside(page, save)
        save.click()
        saved(page)
        note = stored(demo_reports, setup, text)
        assert (note["tipo"], note["riferimento"], note["valore"], note["grafico"], note["famiglia"]) == (
            kind, "comune", comune, chart["id"], family)
        # nothing carries over to the next note
        page.wait_for_function("() => document.querySelector('.wb-summary').innerText.includes("
                               "\"riferita a Tutto l'ambito · grafico: nessuno\")")
        assert not field(page, "Quale").is_visible()
    assert page.evaluate(OUTSIDE) == {"page": viewport[0], "bad": []}
    assert page.blocked == []


def test_two_marias_are_two_participants_and_a_refresh_keeps_who_you_are(voila_url, demo_reports, setup, room):
    first, second = room(390, 844), room(1366, 768)  # two browsers: two storages, two tokens
    name = f"Maria {new_id()[:4]}"
    enter(first, voila_url, name)
    text = f"Nota della prima {new_id()[:6]}"
    write(first, text)
    enter(second, voila_url, name.upper(), "Cittadino")
    assert "già usato da un altro partecipante" in second.locator("#avviso-nome").inner_text()
    assert field(first, "Le mie note").locator("option", has_text=text).count() == 1
    assert field(second, "Le mie note").locator("option").count() == 0  # not hers: nothing to edit or delete
    # dots: the first Maria spends all hers, the second still has every one of her own
    note = stored(demo_reports, setup, text)["id"]
    dots = setup["punti"]
    for left in range(dots - 1, -1, -1):
        vote(first, text, left, dots)
    first.get_by_role("button", name="Dai un punto").click()
    first.wait_for_selector(f"text=Hai già usato tutti i tuoi {dots} punti")
    vote(second, text, dots - 1, dots)  # hers are untouched by the other Maria's
    store = open_store(demo_reports / "cremasco" / "cruscotti", setup, readonly=True)
    votes = store.db.execute("SELECT partecipante, COUNT(*) FROM voti WHERE nota = ? GROUP BY partecipante",
                             (note,)).fetchall()
    store.close()
    assert sorted(v[1] for v in votes) == [1, dots]
    # a refresh: the same participant, recognised by the token this browser kept
    token = first.evaluate("Object.values(localStorage)[0]")
    first.reload()
    first.wait_for_selector(f"text=Bentornato! Partecipi come {name}")
    assert first.evaluate("Object.values(localStorage)[0]") == token
    assert field(first, "Le mie note").locator("option", has_text=text).count() == 1


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_room_pages_fit_phones_and_laptops(voila_url, facilitator_key, setup, room, viewport):
    page = room(*viewport)
    name = f"Schermo {viewport[0]} {new_id()[:4]}"
    enter(page, voila_url, name)
    text = f"Una nota lunga per lo schermo {name}: " + "parola " * 40
    write(page, text)
    vote(page, text[:40], setup["punti"] - 1, setup["punti"])
    for tab in ("Nota", "Voto", "Valutazione", "La sala", "Letture"):
        page.get_by_role("tab", name=tab).click()
        assert page.evaluate(OUTSIDE) == {"page": viewport[0], "bad": []}, tab
    page.get_by_role("tab", name="Valutazione").click()
    assert field(page, "Valuta").is_visible() and inside(page, field(page, "Valuta"))
    scale = page.locator(".wb-scale").first
    buttons = scale.locator("button")
    tops = {round(buttons.nth(i).bounding_box()["y"]) for i in range(buttons.count())}
    assert buttons.count() == 6 and len(tops) == 1  # the six choices of a scale stay on one line
    field(page, "Valuta").select_option(index=1)
    page.locator(".wb-scale").last.locator("button").nth(3).scroll_into_view_if_needed()  # the last move
    save = page.get_by_role("button", name="Salva la valutazione")
    box = save.bounding_box()  # in view without scrolling back
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= viewport[1] and box["x"] + box["width"] <= viewport[0]
    buttons.nth(4).click()
    save.click()
    page.wait_for_selector(".wb-ok:has-text(\"Valutazione di\")", timeout=15000)
    page.reload()  # the identity is kept, and so is the layout after reloading
    page.wait_for_selector(f"text=Bentornato! Partecipi come {name}")
    assert page.evaluate(OUTSIDE) == {"page": viewport[0], "bad": []}
    page.goto(f"{voila_url}voila/render/facilitatore.ipynb?chiave={facilitator_key}")
    page.wait_for_selector("text=Priorità votate", timeout=90000)
    page.wait_for_timeout(1500)
    assert page.evaluate(OUTSIDE) == {"page": viewport[0], "bad": []}
    assert inside(page, page.get_by_role("button", name="Oscura la nota"))

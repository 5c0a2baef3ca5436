"""Registry of comuni and boundaries drawn offline."""

from workbench.territory import boundaries, registry, rewind


def test_registry_keeps_codes_and_real_names_like_none():
    reg = registry()
    assert len(reg) == 7896
    assert reg["codice_istat"].str.fullmatch(r"\d{6}").all()
    assert "None" in set(reg["denominazione"])          # the comune "None" (TO) is real
    assert "NA" in set(reg["sigla_provincia"])          # Napoli


def test_boundaries_of_cremasco_from_bundled_lombardy():
    codes = {"019035": "Crema", "019049": "Gombito", "019002": "Agnadello"}
    fc, missing = boundaries(codes)
    assert missing == []
    assert {f["properties"]["comune"] for f in fc["features"]} == set(codes.values())


def test_unknown_code_is_reported_missing():
    _, missing = boundaries({"999999": "Nessuno"})
    assert missing == ["999999"]


def test_rewind_makes_exterior_clockwise_for_d3():
    ccw = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    ring = rewind(ccw)["coordinates"][0]
    area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))
    assert area < 0

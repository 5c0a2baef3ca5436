"""Territory: the ISTAT registry of comuni and municipal boundaries for maps, offline."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd

from workbench.paths import GEO, REFERENCE

__all__ = ["registry", "predecessors", "boundaries", "district_map", "find_comune", "province_comuni", "describe",
           "topojson_features", "rewind"]

CODE_PROPERTIES = ("com_istat_code", "istat", "pro_com_t", "PRO_COM_T", "codice_istat")


@lru_cache(maxsize=1)
def registry() -> pd.DataFrame:
    """ISTAT registry of all Italian comuni (codes as 6-character strings).

    Read once from the bundled reference data and cached.

    Returns
    -------
    pandas.DataFrame
        One row per comune, every column as text (empty when unknown): ``codice_istat``, ``denominazione``,
        ``denominazione_altra_lingua``, ``sigla_provincia``, ``provincia``, ``codice_regione``, ``regione``,
        ``ripartizione`` and ``popolazione_2023``.

    Examples
    --------
    >>> registry().set_index("codice_istat").loc["019035", "denominazione"]
    'Crema'
    """
    return pd.read_csv(REFERENCE / "comuni_italia.csv", dtype=str, keep_default_na=False)


def _arc(topo: dict, index: int) -> list[list[float]]:
    arc = topo["arcs"][index if index >= 0 else ~index]
    transform = topo.get("transform")
    if transform:
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append([x * sx + tx, y * sy + ty])
    else:
        points = [list(p) for p in arc]
    return points if index >= 0 else points[::-1]


def _ring(topo: dict, indexes: list[int]) -> list[list[float]]:
    points: list[list[float]] = []
    for i in indexes:
        arc = _arc(topo, i)
        points.extend(arc if not points else arc[1:])
    return points


def topojson_features(topo: dict, name: str | None = None) -> list[dict]:
    """Decode the polygons of a TopoJSON object into GeoJSON features.

    Arcs are decoded (delta-encoded when the topology has a ``transform``); geometries other than
    ``Polygon`` and ``MultiPolygon`` are skipped.

    Parameters
    ----------
    topo : dict
        A TopoJSON ``Topology``.
    name : str or None, optional
        The object to decode (default: the first one).

    Returns
    -------
    list of dict
        GeoJSON features with the geometries' properties.

    Examples
    --------
    >>> topo = {"type": "Topology", "arcs": [[[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]],
    ...         "transform": {"scale": [1, 1], "translate": [0, 0]},
    ...         "objects": {"c": {"type": "GeometryCollection", "geometries": [
    ...             {"type": "Polygon", "arcs": [[0]], "properties": {"istat": "000001"}}]}}}
    >>> topojson_features(topo)[0]["geometry"]["coordinates"]
    [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    """
    obj = topo["objects"][name or next(iter(topo["objects"]))]
    features = []
    for geom in obj["geometries"]:
        if geom["type"] == "Polygon":
            coords = [_ring(topo, ring) for ring in geom["arcs"]]
        elif geom["type"] == "MultiPolygon":
            coords = [[_ring(topo, ring) for ring in poly] for poly in geom["arcs"]]
        else:
            continue
        features.append({"type": "Feature", "properties": geom.get("properties", {}),
                         "geometry": {"type": geom["type"], "coordinates": coords}})
    return features


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def rewind(geometry: dict, digits: int = 5) -> dict:
    """Orient rings as d3-geo (Vega) expects: exterior clockwise, holes counter-clockwise.

    Boundaries written with the pre-RFC 7946 or RFC 7946 convention would otherwise
    be drawn by Vega as the whole globe minus the comune.

    Parameters
    ----------
    geometry : dict
        A GeoJSON ``Polygon`` or ``MultiPolygon``.
    digits : int, optional
        Coordinates are rounded to this many decimals (default 5).

    Returns
    -------
    dict
        A new geometry of the same type.

    Examples
    --------
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> rewind(square)["coordinates"]
    [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]
    """
    def fix(polygon):
        out = []
        for i, ring in enumerate(polygon):
            ring = [[round(x, digits), round(y, digits)] for x, y in ring]
            clockwise = _signed_area(ring) < 0
            out.append(ring if clockwise == (i == 0) else ring[::-1])
        return out

    coords = geometry["coordinates"]
    fixed = fix(coords) if geometry["type"] == "Polygon" else [fix(p) for p in coords]
    return {"type": geometry["type"], "coordinates": fixed}


def _code(properties: dict) -> str | None:
    for key in CODE_PROPERTIES:
        if key in properties:
            return str(properties[key]).split(".")[0].zfill(6)
    return None


@lru_cache(maxsize=32)
def _source_features(path: Path) -> dict[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = topojson_features(data) if data.get("type") == "Topology" else data.get("features", [])
    return {code: f["geometry"] for f in features if (code := _code(f.get("properties", {})))}


@lru_cache(maxsize=1)
def predecessors() -> dict[str, tuple[str, ...]]:
    """Former ISTAT codes of today's comuni created by mergers or moved to another province.

    Derived by ``data/build_reference.py`` from the sources (rule in ``data/README.md``).

    Returns
    -------
    dict of str to tuple of str
        Code of today's comune → its former codes (comuni without predecessors are absent).

    Examples
    --------
    >>> predecessors()["013256"]
    ('013199', '013228')
    """
    frame = pd.read_csv(REFERENCE / "predecessori.csv", dtype=str, keep_default_na=False)
    return {code: tuple(group) for code, group in frame.groupby("codice_istat")["predecessore"]}


def _region_file(code: str) -> Path | None:
    region = _regions().get(code)
    path = GEO / f"R{region}.topo.json" if region else None
    return path if path and path.is_file() else None


@lru_cache(maxsize=1)
def _regions() -> dict[str, str]:
    reg = registry()
    return dict(zip(reg["codice_istat"], reg["codice_regione"]))


def _merged(parts: list[dict]) -> dict:
    """One MultiPolygon from the polygons of several comuni (a merged comune drawn from its predecessors)."""
    polygons = []
    for geometry in parts:
        polygons += [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return {"type": "MultiPolygon", "coordinates": polygons}


def _bundled(code: str) -> dict | None:
    """The geometry of a comune from the bundled region files, or from its predecessors' when all are there."""
    path = _region_file(code)
    if path is None:
        return None
    geometries = _source_features(path)
    if code in geometries:
        return geometries[code]
    parts = [geometries.get(old) for old in predecessors().get(code, ())]
    return _merged(parts) if parts and all(parts) else None


def boundary_sources(workspace: Path | None = None) -> list[Path]:
    """The workspace's own boundary files (``confini*.geojson`` / ``confini*.topo.json``), in priority order.

    Parameters
    ----------
    workspace : pathlib.Path or None, optional
        The workspace folder.

    Returns
    -------
    list of pathlib.Path
        The files ``confini*.*json`` of the folder sorted by name; empty without a folder.

    Examples
    --------
    >>> boundary_sources(None)
    []
    """
    return sorted(workspace.glob("confini*.*json")) if workspace else []


def boundaries(codes: dict[str, str], workspace: Path | None = None) -> tuple[dict, list[str]]:
    """GeoJSON of the given comuni ``{istat: name}`` and the codes not found.

    A district's own boundary files win; then the bundled region of each comune (read on demand). A comune
    created by a merger after the boundaries were published is drawn from its predecessors when they are all
    in the files; otherwise it is returned among the codes not found.

    Parameters
    ----------
    codes : dict of str to str
        ISTAT code → name of each comune.
    workspace : pathlib.Path or None, optional
        The workspace folder, for its own boundary files (:func:`boundary_sources`).

    Returns
    -------
    collection : dict
        A FeatureCollection sorted by code, properties ``istat`` and ``comune``, rings oriented by :func:`rewind`.
    missing : list of str
        The sorted codes without boundaries.

    Examples
    --------
    >>> fc, missing = boundaries({"019035": "Crema", "013256": "Uggiate con Ronago", "012144": "Bardello"})
    >>> [f["properties"]["istat"] for f in fc["features"]], missing
    (['013256', '019035'], ['012144'])
    """
    sources = tuple(boundary_sources(workspace))
    found = {code: geometry for code in codes if (geometry := _drawable(code, sources)) is not None}
    features = [{"type": "Feature", "properties": {"istat": c, "comune": codes[c]}, "geometry": g}
                for c, g in sorted(found.items())]
    return {"type": "FeatureCollection", "features": features}, sorted(codes.keys() - found.keys())


@lru_cache(maxsize=1024)
def _drawable(code: str, sources: tuple[Path, ...]) -> dict | None:
    """The geometry of a comune from the first of ``sources`` that has it, else the bundled one, rewound.

    Cached: a district's maps (distress, index, services) draw the same comuni.
    """
    for source in sources:
        geometries = _source_features(source)
        if code in geometries:
            return rewind(geometries[code])
    geometry = _bundled(code)
    return None if geometry is None else rewind(geometry)


def _key(name: str) -> str:
    """A comune's name for matching: no case, accents, apostrophes, spaces or hyphens.

    >>> _key("Sant'Angelo Lodigiano") == _key("SANT ANGELO LODIGIANO") == _key("Santangelo lodigiano")
    True
    >>> _key("Cantù") == _key("Cantu'")
    True
    """
    text = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in text if ch.isalnum())


@lru_cache(maxsize=1)
def _name_index() -> dict[str, tuple[str, ...]]:
    """Matching key -> ISTAT codes, for the Italian name, the other-language name and both joined."""
    reg = registry()
    index: dict[str, set[str]] = {}
    for code, name, other in zip(reg["codice_istat"], reg["denominazione"], reg["denominazione_altra_lingua"]):
        for variant in {name, other, f"{name}{other}", f"{other}{name}"} - {""}:
            index.setdefault(_key(variant), set()).add(code)
    return {k: tuple(sorted(v)) for k, v in index.items()}


_SIGLA = re.compile(r"^(?P<name>.*?)\s*\((?P<sigla>[A-Za-z]{2})\)\s*$")


def describe(code: str) -> str:
    """«Nome (SIGLA)» of a comune, as used in messages.

    Parameters
    ----------
    code : str
        The 6-character ISTAT code of a comune of the registry.

    Returns
    -------
    str
        Its name and province.

    Examples
    --------
    >>> describe("019035")
    'Crema (CR)'
    """
    row = registry().set_index("codice_istat").loc[code]
    return f"{row['denominazione']} ({row['sigla_provincia']})"


def find_comune(entry: str) -> tuple[str | None, str]:
    """The ISTAT code of one comune written as a code or a name, or why none was found.

    Names are matched ignoring case, accents, apostrophes and spaces, in Italian, in the other official language
    or both (``Bolzano``, ``Bozen``, ``Bolzano/Bozen``); a province in brackets settles names shared by several
    comuni (``Castro (LE)``). Codes may have lost their leading zeros (``19035``).

    Parameters
    ----------
    entry : str
        A code or name, as the user wrote it.

    Returns
    -------
    code : str or None
        The code of the comune, None when the entry is unknown or ambiguous.
    reason : str
        Empty when found; otherwise why, in Italian, with the candidates or the closest names.

    Examples
    --------
    >>> find_comune("bozen")
    ('021008', '')
    >>> print(find_comune("Castro")[1])
    «Castro» è il nome di più comuni: Castro (BG) 016065, Castro (LE) 075096. Scrivi la provincia fra parentesi, es. «Castro (BG)», o il codice ISTAT.
    >>> find_comune("Cremma")[1]
    '«Cremma» non è un comune italiano. Forse intendevi: Crema (CR), Cremia (CO), Carema (TO)?'
    """
    text = " ".join(str(entry).split())
    reg = registry()
    if text.isdigit() and len(text) <= 6:
        code = text.zfill(6)
        if code in _regions():
            return code, ""
        return None, f"«{text}» non è il codice ISTAT di un comune in vigore."
    sigla = None
    if match := _SIGLA.match(text):
        text, sigla = match["name"], match["sigla"].upper()
    parts = [p for p in re.split(r"\s*/\s*", text) if p]
    candidates = set.intersection(*(set(_name_index().get(_key(p), ())) for p in parts)) if parts else set()
    if sigla:
        provinces = dict(zip(reg["codice_istat"], reg["sigla_provincia"]))
        candidates = {c for c in candidates if provinces[c] == sigla}
    if len(candidates) == 1:
        return candidates.pop(), ""
    if candidates:
        listed = ", ".join(f"{describe(c)} {c}" for c in sorted(candidates, key=describe))
        example = describe(min(candidates, key=describe))
        return None, (f"«{entry}» è il nome di più comuni: {listed}. Scrivi la provincia fra parentesi, "
                      f"es. «{example}», o il codice ISTAT.")
    close = difflib.get_close_matches(_key(text), _name_index().keys(), n=3, cutoff=0.75)
    hints = list(dict.fromkeys(describe(c) for k in close for c in _name_index()[k]))  # closest first
    where = f" nella provincia {sigla}" if sigla else ""
    return None, f"«{entry}» non è un comune italiano{where}." + (
        f" Forse intendevi: {', '.join(hints)}?" if hints else "")


def province_comuni(sigla: str) -> list[str]:
    """ISTAT codes of the comuni of a province (``NA`` is Napoli), in registry order.

    Parameters
    ----------
    sigla : str
        The province's two-letter abbreviation (case and surrounding spaces ignored).

    Returns
    -------
    list of str
        The codes; empty for an unknown abbreviation.

    Examples
    --------
    >>> len(province_comuni("CR")), len(province_comuni("na"))
    (113, 92)
    """
    reg = registry()
    return reg.loc[reg["sigla_provincia"] == sigla.strip().upper(), "codice_istat"].tolist()


def district_map(comuni: pd.DataFrame, workspace: Path | None = None) -> tuple[dict, list[str]]:
    """Boundaries of a district's comuni and the names of those without.

    The comuni without boundaries stay in every ranking and table; pages list them under the map.

    Parameters
    ----------
    comuni : pandas.DataFrame
        The district's comuni, columns ``istat`` and ``comune``.
    workspace : pathlib.Path or None, optional
        The workspace folder, for its own boundary files.

    Returns
    -------
    collection : dict
        The GeoJSON FeatureCollection of :func:`boundaries`.
    missing : list of str
        Names of the comuni without boundaries, in alphabetical order.

    Examples
    --------
    >>> fc, missing = district_map(pd.DataFrame({"istat": ["012144", "019035"], "comune": ["Bardello …", "Crema"]}))
    >>> len(fc["features"]), missing
    (1, ['Bardello …'])
    """
    names = dict(zip(comuni["istat"], comuni["comune"]))
    geo, missing = boundaries(names, workspace)
    return geo, sorted((names[c] for c in missing), key=str.casefold)

"""Territory: the ISTAT registry of comuni and municipal boundaries for maps, offline."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .paths import GEO, REFERENCE

__all__ = ["registry", "boundaries", "topojson_features", "rewind"]

CODE_PROPERTIES = ("com_istat_code", "istat", "pro_com_t", "PRO_COM_T", "codice_istat")


@lru_cache(maxsize=1)
def registry() -> pd.DataFrame:
    """ISTAT registry of all Italian comuni (codes as 6-character strings)."""
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


@lru_cache(maxsize=8)
def _source_features(path: Path) -> dict[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = topojson_features(data) if data.get("type") == "Topology" else data.get("features", [])
    return {code: f["geometry"] for f in features if (code := _code(f.get("properties", {})))}


def boundary_sources(workspace: Path | None = None) -> list[Path]:
    """Boundary files in priority order: the workspace's own, then the bundled ones in ``data/geo``."""
    own = sorted(workspace.glob("confini*.*json")) if workspace else []
    bundled = sorted(GEO.glob("*.geojson")) + sorted(GEO.glob("*.topo.json"))
    return own + bundled


def boundaries(codes: dict[str, str], workspace: Path | None = None) -> tuple[dict, list[str]]:
    """GeoJSON of the given comuni ``{istat: name}``; returns (FeatureCollection, codes not found)."""
    found: dict[str, dict] = {}
    for source in boundary_sources(workspace):
        geometries = _source_features(source)
        for code in codes.keys() - found.keys():
            if code in geometries:
                found[code] = rewind(geometries[code])
        if len(found) == len(codes):
            break
    features = [{"type": "Feature", "properties": {"istat": c, "comune": codes[c]}, "geometry": g}
                for c, g in sorted(found.items())]
    return {"type": "FeatureCollection", "features": features}, sorted(codes.keys() - found.keys())

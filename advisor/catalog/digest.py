"""The catalog's digest: what a document's seal and a catalog package's manifest record of the catalog in use."""

from __future__ import annotations

from advisor.catalog.catalog import Catalog
from advisor.digest import sha256_json


def catalog_sha256(catalog: Catalog) -> str:
    """Every row of every catalog file in use (bundled and the user's), as validated, and the network round trips
    a cloud offer's latency counts (likewise)."""
    trips = catalog.round_trips
    return sha256_json({"cards": [c.model_dump(mode="json") for c in catalog.cards],
                        "servers": [s.model_dump(mode="json") for s in catalog.servers],
                        "offers": [o.model_dump(mode="json") for o in catalog.offers],
                        "energy": [f.model_dump(mode="json") for f in catalog.energy],
                        "round_trips": [r.model_dump(mode="json") for r in trips.rows.values()],
                        "locations": [r.model_dump(mode="json") for r in trips.locations.values()]})

"""Digests of values: one canonical form, so that the same value always gives the same SHA-256 wherever it is taken
(a document's seal, a catalog package's manifest)."""

from __future__ import annotations

import hashlib
import json


def sha256_json(data) -> str:
    """The digest of a value as canonical JSON (sorted keys, no spaces): the same value, the same digest."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

"""The catalog of cards and hosting offers (bundled in profiles/catalog)."""

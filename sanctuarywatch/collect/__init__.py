"""A run of a source: fetch, archive, load in one transaction, then the claims (run.py)."""

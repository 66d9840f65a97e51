"""A run of a source: fetch, archive, load in one transaction (run.py); no claims."""

"""Code shared by sources of one upstream platform (no source's own rules)."""

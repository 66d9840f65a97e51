"""justice.gov pages and texts: layouts, text, tags, numbers."""

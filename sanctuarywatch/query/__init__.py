"""Questions asked of the warehouse: helpers, claims, coverage, jurisdictions."""

"""The raw archive, the warehouse and normalisation: they know no source by name."""

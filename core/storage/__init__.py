"""Storage: the DuckDB store (the only place that speaks SQL), its connections, parts and records."""

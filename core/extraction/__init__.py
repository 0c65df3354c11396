"""Extraction: from a run configuration to stored parts, locally, as a grid or on a cluster."""

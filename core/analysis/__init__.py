"""Analysis: alignment with human ratings, domains, stability, layers, series, run choice."""

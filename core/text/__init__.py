"""Text: concept words, their sentences, benchmark pairs and the seeded sets of a run."""

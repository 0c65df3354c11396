"""Experts: the AP of every unit for a concept, and expert sets at any tau."""

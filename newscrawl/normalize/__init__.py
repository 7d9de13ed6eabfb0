"""Normalisers: small pure functions, one concern each. Sites feed them raw strings; they return clean values."""

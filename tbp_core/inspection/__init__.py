"""Inspecting a dataset: dump, tag table and edits, structure, pixel preview."""

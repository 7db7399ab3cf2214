"""Validating a dataset against its IOD: findings, values, conditions."""

"""Benchmarks for the budgets of DESIGN §8 (`make bench`); not collected by pytest."""

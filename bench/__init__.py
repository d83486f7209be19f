"""Benchmarks of Faros against a baseline measured in the same run (``python -m bench.gitops``).

Speed is measured here, not by timed assertions in tests: each benchmark prints a table and
writes JSON, and compares Faros with kubectl on the same cluster as ratios.
"""

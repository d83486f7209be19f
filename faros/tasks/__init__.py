"""Celery wiring: decode a key, call adapters and core, report."""

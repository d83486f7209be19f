"""Adapter for the Kubernetes API: clients, discovery, reads, writes, watches."""

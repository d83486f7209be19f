"""Faros: a GitOps controller for Kubernetes (faros.pusher.com/v1alpha1)."""

__version__ = "0.1.0.dev0"

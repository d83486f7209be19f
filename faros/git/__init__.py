"""Adapter for Git repositories: fetch, checkout, credentials, file reads."""

"""Fault injection: real processes killed, real servers restarted, real webhooks failing."""

"""Test bed for Faros and its users: a real control plane on loopback (like envtest)."""

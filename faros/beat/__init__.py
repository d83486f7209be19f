"""The dynamic, Redis-backed beat schedule: one entry per GitTrack."""

"""Watch loops that turn API events into queued work."""

"""The webhook receiver: pushes from Git providers queue an immediate sync of the GitTracks
they move, instead of waiting for the next ``--sync-period``.

- ``command``: ``faros receiver``, its own process (Deployment, any number of replicas).
- ``service``: the receiver started inside a process (``faros receiver``, ``faros run``).
- ``endpoint``: the HTTP server and its hostile-input checks.
- ``intake``: one delivery: verify, match, de-duplicate, stamp and queue.
- ``secretcache``: the webhook secrets, read from Secrets with a short cache.
- ``trackwatch``: the GitTrack and ClusterGitTrack watches ``faros receiver`` matches against.
"""

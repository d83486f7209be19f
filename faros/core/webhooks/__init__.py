"""Push webhooks, decided without I/O: who sent a delivery, what it says, which GitTracks it wakes.

- ``signatures``: verify a delivery the way its provider signs it (constant-time).
- ``payloads``: read a provider's delivery into an :class:`payloads.Event` (push, ping, other).
- ``repourls``: one spelling per repository, whatever URL form names it.
- ``matching``: the GitTracks a push is for, and the Secret each may be verified with.
- ``guards``: the per-client token bucket and the replay window (time is a parameter).
- ``pushstamp``: the ``faros.pusher.com/pushed-at`` annotation and its latency.
"""

"""Test servers' ports: never one the kernel may give an outgoing connection, never twice."""

from __future__ import annotations

import socket

import pytest

from tests.harness import processes


def test_ports_are_below_the_ephemeral_range_bindable_and_never_handed_out_twice():
    low = processes._ephemeral_low()
    ports = [processes.free_port() for _ in range(200)]

    assert len(set(ports)) == len(ports)
    assert all(low - processes.PORTS <= port < low for port in ports)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # free a moment ago, as promised


def test_a_port_taken_meanwhile_is_not_handed_out(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        monkeypatch.setattr(processes, "_ephemeral_low", lambda: port + 1)
        monkeypatch.setattr(processes, "PORTS", 1)  # the range is that one port

        with pytest.raises(RuntimeError, match="no free loopback port"):
            processes.free_port()

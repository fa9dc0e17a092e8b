"""The test suite itself must not reach the internet."""

import socket

import pytest


def test_outside_address_is_refused() -> None:
    with pytest.raises(ConnectionRefusedError, match="network blocked"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_loopback_is_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()

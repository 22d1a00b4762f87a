"""Loopback ports for the kit's Spark JVMs: which one to listen on, and whether something answers there.

Every socket the kit's servers and loopback cluster open binds to 127.0.0.1; the shared server prefers one fixed port
so its URL stays the same across restarts.
"""

from __future__ import annotations

import socket

from checkers.errors import SparkServerError

DEFAULT_PORT = 15077
"""Preferred gRPC port, so the URL stays the same across restarts (15002, Spark's default, is left free)."""
LOOPBACK = "127.0.0.1"


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """Something accepts connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    if port_open(port):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so a port left in TIME_WAIT by our own stopped server still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def any_free_port() -> int:
    """A port on loopback that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pick_port(requested: int | None) -> int:
    """``requested`` if it is free (else a clear error), without one :data:`DEFAULT_PORT` or any free port."""
    if requested is not None:
        if not 0 < requested < 65536:
            raise SparkServerError(f"Port {requested} is not a valid TCP port.",
                                   hint="Use a port from 1024 to 65535.")
        if not _port_free(requested):
            raise SparkServerError(f"Port {requested} on {LOOPBACK} is already in use by another program.",
                                   hint="Choose another port with --port, or leave --port out and the kit "
                                        "picks a free one.")
        return requested
    return DEFAULT_PORT if _port_free(DEFAULT_PORT) else any_free_port()

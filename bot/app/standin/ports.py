"""Ports for the local servers the stand-in world runs on."""

import socket


def free_port() -> int:
    """A port nothing listens on at this moment, for a server about to start on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

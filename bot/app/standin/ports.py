"""Ports for the local servers the stand-in world runs on."""

import random
import socket
from pathlib import Path

LOWEST = 10_000
_pick = random.SystemRandom()


def free_port() -> int:
    """A port nothing listens on at this moment, for a server about to start on 127.0.0.1.

    Taken below the kernel's ephemeral range: a bot restarted on its port (kill -9, then start) would otherwise
    find it taken by some other process's outgoing connection, which the kernel gives ports from that range."""
    below = _ephemeral_start()
    for _ in range(100):
        port = _pick.randrange(LOWEST, below) if below > LOWEST else 0
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port below the ephemeral range")


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0

"""The stand-in world's ports: a bot restarted on its port finds it free."""

import socket

from bot.app.standin.ports import _ephemeral_start, free_port


def test_a_port_handed_out_is_free_and_below_the_range_outgoing_connections_take_theirs_from():
    ports = {free_port() for _ in range(20)}
    below = _ephemeral_start()
    if below > 10_000:  # Linux: the range is known
        assert max(ports) < below
    for port in ports:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))

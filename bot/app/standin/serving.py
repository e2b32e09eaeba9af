"""Serving a stand-in's HTTP server from a thread of its own."""

import socketserver
import threading

POLL_INTERVAL = 0.02
"""How often the serving loop looks for a shutdown: `shutdown()` waits for it, and socketserver's default of
half a second made stopping each stand-in take that long."""


def serve_in_thread(server: socketserver.BaseServer, name: str) -> None:
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name=name, daemon=True
    ).start()

"""A stand-in for an OpenAI-compatible chat completions endpoint, on 127.0.0.1: tests and the demo ask it
instead of a real LLM. It calls a post relevant when it names one of `relevant_words`, suggests the same reply
to any post, and can be made to fail, stall or babble as real endpoints do."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.app.standin.serving import serve_in_thread

PATH = "/v1/chat/completions"
SUGGESTED = "Hi! Sorry about that <!channel>, we are on it and will write back today."
"""The reply it suggests, with what a reply must never ping: the bot shows it as text."""


class FakeLlm:
    def __init__(self, relevant_words: tuple[str, ...]) -> None:
        self.relevant_words = tuple(word.casefold() for word in relevant_words)
        self.questions: list[dict[str, Any]] = []
        """Each request's JSON body, with its `authorization` header under `_authorization`."""
        self._lock = threading.Lock()
        self._failing: list[int] = []
        self._stall = 0.0
        self._babble = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

    def start(self) -> "FakeLlm":
        serve_in_thread(self._server, "fake-llm")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """What `[llm] base_url` is set to."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/"

    def fail(self, status: int, *, times: int) -> None:
        with self._lock:
            self._failing += [status] * times

    def stall(self, seconds: float) -> None:
        self._stall = seconds

    def babble(self, on: bool = True) -> None:
        """Answer with something that is neither verdict."""
        self._babble = on

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.questions.append(body)
            status = self._failing.pop(0) if self._failing else 200
        if status != 200:
            return status, {"error": {"message": "stand-in failure", "type": "server_error"}}
        time.sleep(self._stall)
        post = str(body["messages"][-1]["content"]).casefold()
        said = "I cannot tell." if self._babble else "relevant"
        if "relevant or irrelevant" not in str(body["messages"][0]["content"]):  # asked to suggest a reply
            said = f"{SUGGESTED}\n(about: {post.splitlines()[-1][:80]})"
        elif not self._babble and not any(word in post for word in self.relevant_words):
            said = "irrelevant"
        return 200, {
            "id": f"chatcmpl-{len(self.questions)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": said}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(post) // 4, "completion_tokens": 1, "total_tokens": len(post) // 4 + 1},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                body["_authorization"] = self.headers.get("Authorization")
                status, answer = (404, {"error": {"message": "no such path"}})
                if self.path == PATH:
                    status, answer = fake._answer(body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot gave up waiting

        return Handler

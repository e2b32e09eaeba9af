"""The demo's own web server: the page, its JSON API, the sample feeds the bot polls, the issue tracker, and
uploaded files."""

import json
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

import waitress
from flask import Flask, Response, jsonify, redirect, request
from waitress.server import BaseWSGIServer, MultiSocketServer

from bot.app.demo.feeds import SampleFeeds
from bot.app.demo.session import DemoWorkspace
from bot.app.demo.workspace import CHANNELS, PEOPLE
from bot.app.standin.github import StandinGitHub
from bot.ground.errors import UserError

STATIC = {"demo.css": "text/css", "demo.js": "text/javascript", "demo.html": "text/html"}


def create_demo_app(
    workspace: DemoWorkspace, feeds: SampleFeeds, *, post_summary: Callable[[], str], github: StandinGitHub
) -> Flask:
    """`github`: the product team's issue tracker, served beside the feeds for the bot's `[trackers.github]`."""
    app = Flask("allears-demo")

    def static(name: str) -> Response:
        body = resources.files("bot.app.demo").joinpath(f"static/{name}").read_bytes()
        return Response(body, content_type=f"{STATIC[name]}; charset=utf-8", headers={"Cache-Control": "no-store"})

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise UserError("send a JSON object")
        return data

    @app.errorhandler(UserError)
    def refused(error: UserError) -> tuple[Response, int]:
        return jsonify({"ok": False, "error": str(error)}), 400

    @app.get("/")
    def home() -> Any:
        return redirect("/demo")

    @app.get("/demo")
    def page() -> Response:
        return static("demo.html")

    @app.get("/demo/static/<name>")
    def asset(name: str) -> Response:
        return static(name) if name in STATIC else Response(status=404)

    @app.get("/demo/feeds/<path:path>")
    def feed(path: str) -> Response:
        document = feeds.document(path)
        if document is None:
            return Response(status=404)
        content, content_type = document
        return Response(content, content_type=content_type)

    @app.route("/demo/github/<path:path>", methods=["GET", "POST", "PATCH"])
    def github_api(path: str) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = {name: value for name, value in request.args.items()}
        status, answer, extra = github.answer(request.method, f"/{path}", query, headers, request.get_data())
        return Response(json.dumps(answer), status=status, content_type="application/json", headers=extra)

    @app.get("/demo/<owner>/<name>/issues/<int:number>")
    def github_issue_page(owner: str, name: str, number: int) -> Response:
        """The issue as the product team sees it on "GitHub": its title and description, evidence included."""
        issue = github.issues.get(number)
        if issue is None or f"{owner}/{name}" != github.repo:
            return Response(status=404)
        page = f"{issue['title']} (#{number}, {issue['state']})\n\n{issue['body']}\n"
        return Response(page, content_type="text/plain; charset=utf-8")

    @app.get("/demo/files/<file_id>")
    def file(file_id: str) -> Response:
        data = workspace.upload(file_id)
        return Response(data, content_type="image/png") if data else Response(status=404)

    @app.get("/demo/api/people")
    def people() -> Response:
        listed = [{"id": p.id, "name": p.name, "team": p.team, "title": p.title} for p in PEOPLE]
        return jsonify({"people": listed, "channels": CHANNELS})

    @app.get("/demo/api/state")
    def state() -> Response:
        return jsonify(workspace.state(request.args.get("person", "")))

    @app.post("/demo/api/click")
    def click() -> Response:
        data = body()
        return jsonify(
            workspace.click(data.get("person", ""), channel=data.get("channel", ""), ts=data.get("ts", ""), action=data)
        )

    @app.post("/demo/api/home")
    def open_home() -> Response:
        return jsonify(workspace.open_home(body().get("person", "")))

    @app.post("/demo/api/command")
    def command() -> Response:
        data = body()
        return jsonify(
            workspace.command(data.get("person", ""), str(data.get("text", "")), channel=data.get("channel", ""))
        )

    @app.post("/demo/api/submit")
    def submit() -> Response:
        data = body()
        values: dict[str, dict[str, Any]] = data["values"] if isinstance(data.get("values"), dict) else {}
        return jsonify(workspace.submit(data.get("person", ""), str(data.get("view", "")), values))

    @app.post("/demo/api/dismiss")
    def dismiss() -> Response:
        data = body()
        workspace.dismiss(data.get("person", ""), str(data.get("view", "")))
        return jsonify({"ok": True})

    @app.post("/demo/api/summary")
    def summary() -> Response:
        return jsonify({"ok": True, "message": post_summary()})

    return app


def serve_in_background(app: Flask, port: int) -> BaseWSGIServer | MultiSocketServer:
    """Bind now (so a port in use is reported before anything starts), serve on a daemon thread."""
    try:
        server = waitress.create_server(app, host="127.0.0.1", port=port, threads=8, ident="allears-demo")
    except OSError as error:
        raise UserError(f"cannot serve the demo on port {port}: {error.strerror}; try --port {port + 1}") from None
    threading.Thread(target=server.run, name="demo-page", daemon=True).start()
    return server

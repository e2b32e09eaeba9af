"""The floor for ack latency: a Bolt app whose `/claim` only acks, served like All Ears serves
(Flask adapter, waitress, 16 threads). Started by `bench/ack_latency.py`; reads PORT,
SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL from the environment."""

import os

import waitress
from flask import Flask, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    bolt = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=True)

    @bolt.command("/claim")
    def only_ack(ack: Ack) -> None:
        ack()

    web = Flask("bare-bolt")
    handler = SlackRequestHandler(bolt)

    @web.post("/slack/events")
    def events():  # type: ignore[no-untyped-def]
        return handler.handle(request)

    @web.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    waitress.serve(web, host="127.0.0.1", port=int(os.environ["PORT"]), threads=16, ident="bare-bolt")


if __name__ == "__main__":
    main()

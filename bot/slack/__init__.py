"""Everything that speaks Slack's language: Block Kit, ids, and delivering the outbox through the Web API."""

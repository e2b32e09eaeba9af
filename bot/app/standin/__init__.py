"""A stand-in for Slack on 127.0.0.1, shared by the tests and `allears demo`: the Web API server the bot
talks to, and the people who click and type in it, signing their requests as Slack would."""

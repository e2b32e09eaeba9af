"""Acting: what people do with a mention (claim, reply, escalate, resolve, snooze, reopen), and the SLA."""

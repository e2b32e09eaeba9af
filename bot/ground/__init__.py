"""The ground the bot stands on: storage, configuration, time, logs, errors, the outbox, who leads."""

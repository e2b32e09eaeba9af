"""Hearing: where mentions come from, and how one becomes a card in the right channel, once."""

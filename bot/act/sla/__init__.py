"""The SLA: time that counts, who is reminded of what and when, each reminder once."""

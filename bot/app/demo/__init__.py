"""`allears demo`: All Ears in a local demo workspace, in the browser, without a Slack app."""

"""All Ears: every public customer mention, heard and answered from Slack."""

"""The processes: the `allears` command, the HTTP face, the scheduler, `allears check` and the demo."""

"""Services: what CLI commands call. Each builds its collaborators from :class:`Dependencies`."""

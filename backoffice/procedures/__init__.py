"""The procedure catalog; later, follow-ups, candidacy rules and worklists."""

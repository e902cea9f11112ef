"""Gold Q&A sets in, metrics and a report out: `qa-bot eval`."""

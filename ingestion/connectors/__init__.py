"""One module per source kind; each ``land(ctx)`` stages the file, records its problems and
inserts the usable rows (see ingestion/README.md)."""

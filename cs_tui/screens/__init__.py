"""One screen per module; each screen's CSS lives in a sibling .tcss file."""

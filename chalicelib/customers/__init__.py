"""Customer records, exports and privacy requests."""

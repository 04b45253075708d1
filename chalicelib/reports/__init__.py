"""Statistics and the dashboard."""

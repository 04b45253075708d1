"""Survey links, answers and the survey pages."""

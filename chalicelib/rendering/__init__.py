"""Rendering: the Jinja loader and translations that messages and pages share, and the budgeted sandbox store templates run in."""

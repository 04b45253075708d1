"""A store's settings, products and template overrides."""

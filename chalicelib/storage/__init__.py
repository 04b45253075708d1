"""The one table: keys, the update-expression builder, transactions."""

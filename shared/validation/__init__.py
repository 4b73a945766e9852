"""``validate``: checks compiled from the schema, run on artifacts read back by the format."""

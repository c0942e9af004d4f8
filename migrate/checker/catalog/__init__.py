"""The rule records of every family, one module per family (what is reported, not how)."""

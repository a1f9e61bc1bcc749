"""Use cases. Each takes a Session explicitly, and these are the only code that commits."""

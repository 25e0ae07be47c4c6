"""Optimisers (MultiAdam, Gauss-Newton); the public API arrives with its issue."""

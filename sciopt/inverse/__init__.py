"""PDE-constrained optimization; the public API arrives with its issue."""

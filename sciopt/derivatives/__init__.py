"""Taylor-mode derivatives (exact and STDE); the public API arrives with its issue."""

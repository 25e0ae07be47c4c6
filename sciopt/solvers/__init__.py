"""Classical reference solvers; the public API arrives with its issue."""

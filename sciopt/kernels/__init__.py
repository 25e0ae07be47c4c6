"""Blocked particle interactions without N x M memory; the public API arrives with its issue."""

"""flows: a layer-1 method package of sciopt; its public API arrives with its issue."""

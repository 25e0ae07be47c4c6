"""Property tests (hypothesis) for the pieces of the fit loop and data splits that index
things."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sciopt.data import split_indices
from sciopt.train._loop import next_boundary as _next_boundary


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 600), st.integers(1, 50),
       st.one_of(st.none(), st.integers(1, 50)))
def test_chunk_boundaries_hit_every_checkpoint_and_the_end(start, total, chunk, every):
    if start >= total:
        return
    step, boundaries = start, []
    while step < total:
        nxt = _next_boundary(step, total, chunk, every)
        assert step < nxt <= min(total, step + chunk)
        boundaries.append(nxt)
        step = nxt
    assert boundaries[-1] == total
    if every is not None:
        assert set(range((start // every + 1) * every, total + 1, every)) <= set(boundaries)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.lists(st.integers(1, 10), min_size=1, max_size=4),
       st.integers(0, 2**31))
def test_split_indices_partition(n, weights, seed):
    fractions = [w / sum(weights) for w in weights]
    parts = split_indices(n, fractions, seed=seed)
    flat = sorted(i for p in parts for i in p.tolist())
    assert flat == list(range(n))
    for p, f in zip(parts, fractions, strict=True):
        assert abs(len(p) - f * n) <= len(fractions)

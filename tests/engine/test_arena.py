"""The exercise's allocator, one umalloc/ufree at a time, against the spec."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Arena, CellState, HeapExhausted, InvalidFree

HEADER = 16


def test_fresh_arena_is_one_free_chunk():
    arena = Arena(4096)
    assert arena.free_list() == [(0, 4096 - HEADER)]


def test_request_of_zero_returns_null_and_free_of_null_is_a_no_op():
    arena = Arena(4096)
    assert arena.umalloc(0) is None
    arena.ufree(None)
    assert arena.free_list() == [(0, 4080)]


def test_split_rounds_up_and_leaves_the_rest_in_place():
    arena = Arena(4096)
    assert arena.umalloc(100) == 16  # 100 -> 112 bytes
    assert arena.free_list() == [(128, 4080 - 112 - 16)]
    assert arena.counters()["arena_bytes_in_use"] == 128


def test_exact_fit_unlinks_without_a_sliver():
    arena = Arena(4096)
    assert arena.umalloc(4080) == 16
    assert arena.free_list() == []
    assert arena.counters()["sliver_bytes"] == 0


def test_sixteen_spare_bytes_become_a_permanent_sliver():
    arena = Arena(4096)
    p = arena.umalloc(4064)  # S - R == 16: no split
    assert arena.free_list() == []
    assert arena.counters()["sliver_bytes"] == 16
    assert arena.heap_states()[-1] == CellState.SLIVER
    arena.ufree(p)
    # The header recorded 4064: the last 16 bytes never come back.
    assert arena.free_list() == [(0, 4064)]
    with pytest.raises(HeapExhausted):
        arena.umalloc(4080)
    assert arena.umalloc(4064) == 16


def test_a_sliver_stops_its_neighbours_from_coalescing():
    arena = Arena(4096)
    a = arena.umalloc(1008)  # header 0
    b = arena.umalloc(1008)  # header 1024
    arena.ufree(a)
    assert arena.free_list() == [(0, 1008), (2048, 2032)]
    c = arena.umalloc(992)  # first fit into a's chunk, 16 spare: sliver
    assert c == a
    arena.ufree(c)
    arena.ufree(b)
    # b merged with the tail, but not with c's chunk: the sliver sits between.
    assert arena.free_list() == [(0, 992), (1024, 3056)]
    assert arena.heap_states()[1008 // 16] == CellState.SLIVER


def test_free_coalesces_with_both_neighbours_in_one_pass():
    arena = Arena(4096)
    a, b, c = arena.umalloc(48), arena.umalloc(48), arena.umalloc(48)
    arena.ufree(a)
    arena.ufree(c)
    assert arena.free_list() == [(0, 48), (128, 4080 - 128)]
    arena.ufree(b)
    assert arena.free_list() == [(0, 4080)]
    assert arena.counters()["free_list_length"] == 1


def test_first_fit_takes_the_first_chunk_that_fits_not_the_best():
    arena = Arena(4096)
    a = arena.umalloc(96)
    arena.umalloc(48)
    c = arena.umalloc(192)
    arena.umalloc(48)
    arena.ufree(a)
    arena.ufree(c)
    assert arena.umalloc(64) == a  # a's 96-byte chunk comes first
    assert arena.umalloc(160) == c  # too big for a's rest: c's chunk
    assert arena.counters()["free_list_visits_alloc"] > 0


def test_double_free_is_reported_not_aborted():
    arena = Arena(4096)
    p = arena.umalloc(64)
    arena.umalloc(64)  # keeps p's chunk from merging away
    arena.ufree(p)
    with pytest.raises(InvalidFree) as info:
        arena.ufree(p)
    assert str(info.value) == (
        "invalid free at heap offset 16: no allocated chunk there (double free or foreign pointer)"
    )
    assert arena.umalloc(64) == p  # the arena is still sound


@pytest.mark.parametrize(
    "offset, message",
    [
        (
            24,
            "invalid free at heap offset 24: not a multiple of 16, so not the start of a "
            "chunk's payload",
        ),
        (4096, "invalid free: offset 4096 is outside the 4096-byte heap"),
        (-5, "invalid free: offset -5 is outside the 4096-byte heap"),
        (0, "invalid free at heap offset 0: outside the shared region (bytes 0 to 4096)"),
        (2**70, "invalid free: offset 1180591620717411303424 is outside the 4096-byte heap"),
    ],
)
def test_foreign_pointers_are_reported_by_offset_never_address(offset, message):
    arena = Arena(4096)
    with pytest.raises(InvalidFree) as info:
        arena.ufree(offset)
    assert str(info.value) == message
    assert "0x" not in str(info.value)


def test_exhaustion_is_reported_with_the_arena_state():
    arena = Arena(4096)
    arena.umalloc(2000)
    with pytest.raises(HeapExhausted) as info:
        arena.umalloc(3000)
    assert str(info.value) == (
        "heap exhausted: no free chunk for 3000 bytes (free 2064 bytes in 1 chunks, largest 2064)"
    )
    assert info.value.details["requested"] == 3000
    assert info.value.details["largest_free"] == 2064


def test_heap_map_marks_headers_payloads_and_frees():
    arena = Arena(4096)
    p = arena.umalloc(40)  # 48 bytes: 3 cells after the header
    states = arena.heap_states()
    assert list(states[:5]) == [CellState.HEADER] + [CellState.GLOBAL] * 3 + [CellState.FREE]
    arena.ufree(p)
    assert not arena.heap_states().any()


# ---------------------------------------------------------------- property test


class FreeListModel:
    """WORKLOAD.md section 4, written as plainly as possible."""

    def __init__(self, size):
        self.free = [(0, size - HEADER)]  # (header offset, payload), address order
        self.live = {}  # payload offset -> recorded payload

    def umalloc(self, n):
        if n == 0:
            return None
        want = (n + 15) // 16 * 16
        for i, (header, have) in enumerate(self.free):
            if have >= want:
                if have - want > HEADER:
                    self.free[i] = (header + HEADER + want, have - want - HEADER)
                else:
                    del self.free[i]
                self.live[header + HEADER] = want
                return header + HEADER
        raise HeapExhausted("model", 0)

    def ufree(self, offset):
        if offset not in self.live:
            raise InvalidFree("model", 0)
        self.free.append((offset - HEADER, self.live.pop(offset)))
        self.free.sort()
        merged = [self.free[0]]
        for header, have in self.free[1:]:
            last_header, last_have = merged[-1]
            if last_header + HEADER + last_have == header:
                merged[-1] = (last_header, last_have + HEADER + have)
            else:
                merged.append((header, have))
        self.free = merged


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("alloc"),
            st.one_of(st.integers(0, 700), st.sampled_from([16, 32, 992, 1008, 2048, 4064])),
        ),
        st.tuples(st.just("free"), st.integers(0, 10_000)),
        st.tuples(st.just("refree"), st.integers(0, 10_000)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, size=st.sampled_from([4096, 8192]))
def test_random_sequences_match_the_model(ops, size):
    arena, model = Arena(size), FreeListModel(size)
    freed = []
    for op, arg in ops:
        if op == "alloc":
            try:
                want = model.umalloc(arg)
            except HeapExhausted:
                with pytest.raises(HeapExhausted):
                    arena.umalloc(arg)
            else:
                assert arena.umalloc(arg) == want
        elif op == "free" and model.live:
            offset = sorted(model.live)[arg % len(model.live)]
            model.ufree(offset)
            arena.ufree(offset)
            freed.append(offset)
        elif op == "refree" and freed:
            offset = freed[arg % len(freed)]
            if offset not in model.live:  # a double free, unless reallocated since
                with pytest.raises(InvalidFree):
                    arena.ufree(offset)
        assert arena.free_list() == model.free
    in_use = sum(HEADER + n for n in model.live.values())
    assert arena.counters()["arena_bytes_in_use"] == in_use

"""Issue 11: the workload on real allocators (WORKLOAD.md section 9): the C
library's malloc, and mimalloc, jemalloc and tcmalloc loaded at run time.

Every vector gives the spec's signature on each of them, with a thread per
block and with long-lived workers; every allocation is checked to be 16-byte
aligned by the engine itself (a misaligned pointer fails the run, see
test_a_misaligned_pointer_fails_the_run_cleanly), so a passing run is an
aligned one.  The libraries .ci/run installs must be there: a missing one
FAILS these tests, never skips them.

jemalloc (Debian's build) keeps its thread-locals in static TLS, which glibc
sets aside only when a process starts: it loads only into a process started
with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=8192 (``python -m
engine`` restarts itself with it).  Its runs are made in such a process.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import engine
from engine import LockKind, RunConfig, Strategy
from engine.config import STATIC_TLS_BYTES, STATIC_TLS_TUNABLE, static_tls_environment
from tests.conftest import EXPECTED, VECTORS

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAMES = sorted(EXPECTED)
REAL = (Strategy.MALLOC, Strategy.MIMALLOC, Strategy.JEMALLOC, Strategy.TCMALLOC)
# Loaded into this (pytest's) process; jemalloc needs a process started for it.
IN_PROCESS = (Strategy.MALLOC, Strategy.MIMALLOC, Strategy.TCMALLOC)
# The Debian package of each allocator, as .ci/run installs it.
PACKAGES = {
    Strategy.MIMALLOC: "libmimalloc2.0",
    Strategy.JEMALLOC: "libjemalloc2",
    Strategy.TCMALLOC: "libtcmalloc-minimal4",
}
NOT_OBSERVABLE = re.compile(r"^Lock acquisitions: not observable \((\w+)'s locks are its own\)$")


def _env(**extra: str) -> dict[str, str]:
    """This environment started for jemalloc too, plus extra, with this checkout first."""
    env = static_tls_environment(os.environ) or dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return {**env, **extra}


def _python(code: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=_env(**extra_env),
        cwd=ROOT,
        timeout=120,
    )


def _cli(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **extra_env}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


# ------------------------------------------------------------ availability


def test_ci_installs_every_production_allocator():
    """.ci/run's apt line lists each library: the tests below rely on it."""
    ci = (ROOT / ".ci" / "run").read_text()
    for package in PACKAGES.values():
        assert re.search(rf"(^|\s){re.escape(package)}(\s|$)", ci, flags=re.M), package


@pytest.mark.parametrize("strategy", IN_PROCESS, ids=lambda s: s.label)
def test_installed_allocators_are_available_here(strategy):
    assert strategy.unavailable_reason() is None
    assert not strategy.uses_arena
    assert strategy in engine.USER_STRATEGIES


def test_jemalloc_is_available_in_a_process_started_for_it():
    out = _python(
        """
        from engine import Strategy
        print(Strategy.JEMALLOC.unavailable_reason())
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
    assert Strategy.JEMALLOC in engine.USER_STRATEGIES


def test_jemalloc_says_how_to_start_a_process_that_can_load_it():
    """In a process started without the tunable, the reason tells what to do."""
    out = _python(
        """
        from engine import Strategy
        print(Strategy.JEMALLOC.unavailable_reason())
        """,
        GLIBC_TUNABLES="",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "jemalloc cannot be loaded into this process: it needs more static TLS than glibc "
        f"reserved at start (start the process with GLIBC_TUNABLES={STATIC_TLS_TUNABLE}="
        f"{STATIC_TLS_BYTES}; python -m engine does)"
    )


def test_list_strategies_shows_them_available():
    out = _cli("--list-strategies")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(None, 1) for line in out.stdout.splitlines())
    for strategy in REAL:
        assert lines[strategy.label] == "available", out.stdout


def test_static_tls_environment_keeps_other_tunables_and_the_users_choice():
    base = {"PATH": "/usr/bin"}
    if static_tls_environment(base) is None:
        pytest.skip("not glibc: the tunable changes nothing")
    wanted = f"{STATIC_TLS_TUNABLE}={STATIC_TLS_BYTES}"
    assert static_tls_environment(base) == {**base, "GLIBC_TUNABLES": wanted}
    other = {**base, "GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}
    assert static_tls_environment(other)["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{wanted}"
    chosen = {**base, "GLIBC_TUNABLES": f"{STATIC_TLS_TUNABLE}=65536"}
    assert static_tls_environment(chosen) is None


# ------------------------------------------------------------ the unavailable path


def test_a_library_that_is_not_installed_is_reported_unavailable():
    """HEAPSCOPE_<NAME>_LIBRARY names the file to load: one that does not exist
    takes the same path as an allocator that is not installed."""
    missing = "libheapscope-no-such-allocator.so.9"
    reason = (
        f"mimalloc is not installed ({missing} (set by HEAPSCOPE_MIMALLOC_LIBRARY) not found; "
        "Debian package libmimalloc2.0)"
    )
    listed = _cli("--list-strategies", HEAPSCOPE_MIMALLOC_LIBRARY=missing)
    assert listed.returncode == 0, listed.stderr
    assert f"mimalloc   unavailable: {reason}" in listed.stdout.splitlines()
    assert "malloc     available" in listed.stdout.splitlines()

    ran = _cli(
        str(VECTORS / "random_64k.bin"),
        "--strategy",
        "mimalloc",
        HEAPSCOPE_MIMALLOC_LIBRARY=missing,
    )
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert ran.stderr == f"error: the mimalloc strategy cannot run here: {reason}\n"

    # The engine itself refuses it too (not only the CLI), with the same reason.
    out = _python(
        f"""
        import engine
        try:
            engine.run({str(VECTORS / "random_64k.bin")!r}, strategy="mimalloc")
        except engine.InputError as exc:
            print(exc)
        """,
        HEAPSCOPE_MIMALLOC_LIBRARY=missing,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"the mimalloc strategy cannot run here: {reason}"


def test_a_library_without_the_allocators_api_is_reported_unusable():
    out = _cli("--list-strategies", HEAPSCOPE_TCMALLOC_LIBRARY="libm.so.6")
    assert out.returncode == 0, out.stderr
    assert (
        "tcmalloc   unavailable: tcmalloc cannot be used (libm.so.6 (set by "
        "HEAPSCOPE_TCMALLOC_LIBRARY) does not export tc_malloc and tc_free; Debian package "
        "libtcmalloc-minimal4)"
    ) in out.stdout.splitlines()


# ------------------------------------------------------------ signatures


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("workers", [0, 1, 2], ids=["per-block", "workers1", "workers2"])
@pytest.mark.parametrize("strategy", IN_PROCESS, ids=lambda s: s.label)
def test_every_vector_gives_the_spec_signature(strategy, workers, name):
    result = engine.run(VECTORS / name, strategy=strategy, workers=workers)
    assert result.signature == EXPECTED[name]["signature"]
    assert result.blocks == EXPECTED[name]["blocks"]
    assert result.lock_acquisitions is None
    assert result.counters["blocks_done"] == EXPECTED[name]["blocks"]


def test_jemalloc_gives_every_vectors_signature():
    """Every vector and worker mode, in one process started for jemalloc."""
    cases = [(name, workers) for name in NAMES for workers in (0, 1, 2)]
    out = _python(
        f"""
        import json
        import engine
        out = []
        for name, workers in {cases!r}:
            r = engine.run({str(VECTORS)!r} + "/" + name, strategy="jemalloc", workers=workers)
            out.append([name, workers, r.signature, r.blocks, r.lock_acquisitions])
        print(json.dumps(out))
        """
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == [
        [name, workers, EXPECTED[name]["signature"], EXPECTED[name]["blocks"], None]
        for name, workers in cases
    ]


@pytest.mark.parametrize("lock", list(LockKind), ids=lambda k: k.label)
@pytest.mark.parametrize("strategy", IN_PROCESS, ids=lambda s: s.label)
def test_the_lock_kind_is_accepted_and_changes_nothing(strategy, lock):
    """They have no arena lock: --lock is accepted and ignored."""
    name = "words_20k.txt"
    result = engine.run(VECTORS / name, strategy=strategy, lock=lock, workers=2)
    assert result.signature == EXPECTED[name]["signature"]
    assert result.counters["lock_acquisitions"] == 0
    assert result.counters["lock_contended"] == 0


@pytest.mark.parametrize("strategy", IN_PROCESS, ids=lambda s: s.label)
def test_small_batches_and_blocks(strategy):
    """Batches of 3 and 100-byte blocks: many threads, a short last block."""
    name = "random_64k.bin"
    data = (VECTORS / name).read_bytes()
    want = sum(engine.block_hash(data[i : i + 100]) for i in range(0, len(data), 100))
    result = engine.run(VECTORS / name, strategy=strategy, batch_size=3, block_size=100)
    assert result.signature == want % engine.HASH_MODULUS
    assert result.blocks == (len(data) + 99) // 100


# ------------------------------------------------------------ no arena


@pytest.mark.parametrize("strategy", IN_PROCESS, ids=lambda s: s.label)
def test_nothing_touches_the_arena(strategy):
    with engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=strategy)) as handle:
        result = handle.execute()
        heap = handle.heap_map_copy()
    assert heap is not None
    states, owners = heap
    assert not states.any(), "no heap map: nothing marks the cells"
    c = result.counters
    for counter in ("global_allocs", "global_frees", "pool_allocs", "free_list_visits_free"):
        assert c[counter] == 0, counter
    assert result.as_dict()["lock_acquisitions"] is None
    assert result.lock_acquisitions_text == (
        f"not observable ({strategy.label}'s locks are its own)"
    )
    assert result.contended_fraction == 0.0
    assert result.mean_wait_ns == 0.0


@pytest.mark.parametrize("strategy", REAL, ids=lambda s: s.label)
def test_cli_says_the_lock_count_is_not_observable(strategy):
    name = "random_64k.bin"
    out = _cli(str(VECTORS / name), "--strategy", strategy.label, "--workers", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"Final signature: {EXPECTED[name]['signature']}"
    match = NOT_OBSERVABLE.match(lines[1])
    assert match and match.group(1) == strategy.label, lines[1]
    assert lines[3].endswith(
        f"{strategy.label}, 2 long-lived worker(s), {strategy.label}'s own locks)"
    )

    as_json = _cli(str(VECTORS / name), "--strategy", strategy.label, "--json")
    assert as_json.returncode == 0, as_json.stderr
    d = json.loads(as_json.stdout)
    assert d["lock_acquisitions"] is None
    assert d["signature"] == EXPECTED[name]["signature"]
    assert d["strategy"] == strategy.label


def test_baseline_still_prints_its_count():
    name = "random_64k.bin"
    out = _cli(str(VECTORS / name), "--strategy", "baseline")
    assert out.returncode == 0, out.stderr
    want = EXPECTED[name]["lock_acquisitions_baseline"]
    assert out.stdout.splitlines()[1] == f"Lock acquisitions: {want}"


# ------------------------------------------------------------ failures


@pytest.fixture(scope="module")
def fake_mimalloc(tmp_path_factory) -> pathlib.Path:
    """A library exporting mi_malloc/mi_free that fails on demand: NULL from the
    FAIL_AT-th call on (FAKE_MODE=null), or a pointer 8 bytes off (misaligned)."""
    gcc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is needed to build the failing allocator (CI installs it)")
    folder = tmp_path_factory.mktemp("fake-mimalloc")
    source = folder / "fake.c"
    source.write_text(
        textwrap.dedent(
            """
            #include <stdatomic.h>
            #include <stdlib.h>
            #include <string.h>
            static atomic_long calls;
            static long fail_at(void) {
                const char *s = getenv("FAIL_AT");
                return s ? atol(s) : 1;
            }
            void *mi_malloc(size_t n) {
                long call = atomic_fetch_add(&calls, 1) + 1;
                const char *mode = getenv("FAKE_MODE");
                if (call < fail_at())
                    return malloc(n);
                if (mode && strcmp(mode, "misaligned") == 0) {
                    char *p = malloc(n + 16);
                    return p ? p + 8 : NULL;  /* leaked: the run fails at once */
                }
                return NULL;
            }
            void mi_free(void *p) {
                if (((size_t)p & 15) == 0)
                    free(p);
            }
            """
        )
    )
    lib = folder / "libfake-mimalloc.so"
    out = subprocess.run(
        [gcc, "-shared", "-fPIC", "-O1", str(source), "-o", str(lib)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return lib


@pytest.mark.parametrize("workers", ["0", "2"])
@pytest.mark.parametrize("fail_at", ["1", "300"], ids=["coordinator", "worker"])
def test_allocation_failure_fails_the_run_cleanly(fake_mimalloc, fail_at, workers):
    """NULL from the allocator: exit 3 and one line naming it, never a crash."""
    out = _cli(
        str(VECTORS / "random_64k.bin"),
        "--strategy",
        "mimalloc",
        "--workers",
        workers,
        HEAPSCOPE_MIMALLOC_LIBRARY=str(fake_mimalloc),
        FAKE_MODE="null",
        FAIL_AT=fail_at,
    )
    assert out.returncode == 3, (out.stdout, out.stderr)
    assert out.stdout == ""
    who = "the coordinator" if fail_at == "1" else r"(worker \d+|the coordinator)"
    assert re.fullmatch(
        rf"error: heap exhausted: mimalloc returned NULL when {who} asked for \d+ bytes "
        r"\([a-z ]+\) for block \d+\n",
        out.stderr,
    ), out.stderr
    if fail_at == "1":
        assert "1024 bytes (block buffer copy) for block 0" in out.stderr


def test_a_misaligned_pointer_fails_the_run_cleanly(fake_mimalloc):
    out = _cli(
        str(VECTORS / "random_64k.bin"),
        "--strategy",
        "mimalloc",
        HEAPSCOPE_MIMALLOC_LIBRARY=str(fake_mimalloc),
        FAKE_MODE="misaligned",
        FAIL_AT="1",
    )
    assert out.returncode == 5, (out.stdout, out.stderr)
    assert re.fullmatch(
        r"error: mimalloc returned 0x[0-9a-f]+, not 16-byte aligned, when the coordinator "
        r"asked for 1024 bytes \(block buffer copy\) for block 0\n",
        out.stderr,
    ), out.stderr

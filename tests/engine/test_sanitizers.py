"""The standalone engine under ThreadSanitizer and AddressSanitizer + UBSan.

Builds engine/csrc with the tiny standalone main (no Python) into pytest's tmp
dir, once per sanitizer, and runs threaded baseline and pooled runs on the
test vectors: with and without a telemetry reader thread, at default settings
and with small batches and pools (so the pooled strategy falls back to the
locked allocator all the time).  Each run must exit 0, print the expected
signature and lock count, and leave no sanitizer report on stderr.  The flags
come from engine/csrc/cflags.mk, like the Makefile's `tsan` and `asan`
targets; gcc is called directly so the tests need nothing but gcc.
"""

from __future__ import annotations

import os
import pathlib
import platform
import random
import re
import shutil
import subprocess

import pytest

from engine._build import CFLAGS
from engine.config import static_tls_environment
from tests.conftest import EXPECTED, VECTORS

pytestmark = pytest.mark.sanitizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CSRC = ROOT / "engine" / "csrc"
SOURCES = sorted(CSRC.glob("*.c")) + [CSRC / "standalone" / "main.c"]
# The flags of engine/csrc/cflags.mk, the same the Makefile's tsan/asan targets use.
COMMON = [*CFLAGS["COMMON"], *CFLAGS["DEBUG"]]
SANITIZERS = {"tsan": CFLAGS["TSAN"], "asan": CFLAGS["ASAN"]}
# What a sanitizer writes when it finds something (runtime error: is UBSan).
REPORT_MARKERS = (
    "WARNING: ThreadSanitizer",
    "ERROR: AddressSanitizer",
    "runtime error:",
    "ERROR: LeakSanitizer",
    "SUMMARY: ",
)
# TSan's shadow memory layout clashes with the address layout some newer
# kernels use (high mmap_rnd_bits); it then dies before main with this.
TSAN_MAPPING_FAILURE = re.compile(r"unexpected memory mapping|FATAL: ThreadSanitizer")
SANITIZER_ENV = {
    "TSAN_OPTIONS": "halt_on_error=1 second_deadlock_stack=1",
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:strict_string_checks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
RUN_TIMEOUT_S = 60


def _gcc() -> str:
    gcc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    return gcc


def _runtime_available(gcc: str, flags: list[str], workdir: pathlib.Path) -> str | None:
    """None when gcc can link a threaded program with these sanitizer flags, else why not."""
    probe = workdir / "probe.c"
    probe.write_text(
        "#include <pthread.h>\nstatic void *f(void *p) { return p; }\n"
        "int main(void) { pthread_t t; pthread_create(&t, 0, f, 0);"
        " return pthread_join(t, 0); }\n"
    )
    out = subprocess.run(
        [gcc, *flags, "-pthread", str(probe), "-o", str(workdir / "probe")],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "link failed"
    return None


def _build(name: str, sources: list[pathlib.Path], exe: pathlib.Path) -> None:
    flags = SANITIZERS[name]
    gcc = _gcc()
    missing = _runtime_available(gcc, flags, exe.parent)
    if missing:
        pytest.skip(
            f"gcc cannot build with {' '.join(flags)} (sanitizer runtime missing?): {missing}"
        )
    out = subprocess.run(
        [gcc, *COMMON, *flags, *map(str, sources), "-o", str(exe)], capture_output=True, text=True
    )
    assert out.returncode == 0, f"building {exe.name} failed:\n{out.stderr}"


@pytest.fixture(scope="session", params=sorted(SANITIZERS))
def binary(request, tmp_path_factory) -> tuple[str, pathlib.Path]:
    """(sanitizer name, path of the standalone engine built with it)."""
    name = request.param
    exe = tmp_path_factory.mktemp(f"engine-{name}") / f"heapscope-engine-{name}"
    _build(name, SOURCES, exe)
    return name, exe


def _setarch_prefix() -> list[str]:
    setarch = shutil.which("setarch")
    if setarch is None:
        pytest.fail(
            "ThreadSanitizer cannot map its shadow memory on this kernel "
            '("unexpected memory mapping") and setarch, needed to turn ASLR '
            "off for the run, is not installed (util-linux)"
        )
    return [setarch, platform.machine(), "-R"]


_tsan_prefix: list[str] = []  # becomes setarch ... -R once TSan needed it


def run_engine(
    binary: tuple[str, pathlib.Path], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Runs the sanitized engine; reruns TSan with ASLR off if its mapping failed.
    env: more environment variables (they win over SANITIZER_ENV)."""
    name, exe = binary
    env = {**os.environ, **SANITIZER_ENV, **(env or {})}
    cmd = (_tsan_prefix if name == "tsan" else []) + [str(exe), *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S)
    if (
        name == "tsan"
        and not _tsan_prefix
        and out.returncode != 0
        and TSAN_MAPPING_FAILURE.search(out.stderr)
        and "WARNING: ThreadSanitizer" not in out.stderr
    ):
        _tsan_prefix.extend(_setarch_prefix())
        out = subprocess.run(
            _tsan_prefix + cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S
        )
        if TSAN_MAPPING_FAILURE.search(out.stderr) and out.returncode != 0:
            pytest.fail(f"ThreadSanitizer cannot run here even with ASLR off:\n{out.stderr}")
    return out


def assert_clean(out: subprocess.CompletedProcess, what: str) -> None:
    reports = [m for m in REPORT_MARKERS if m in out.stderr]
    assert not reports, f"{what}: sanitizer report on stderr:\n{out.stderr}"


def printed(out: subprocess.CompletedProcess, label: str) -> int:
    match = re.search(rf"^{label}: (\d+)$", out.stdout, flags=re.M)
    assert match, f"no '{label}:' line in the output:\n{out.stdout}\n{out.stderr}"
    return int(match.group(1))


def pooled_locks_model(data: bytes, pool_size: int, block_size: int = 1024) -> int:
    """Lock acquisitions of a pooled run, from WORKLOAD.md sections 3 and 7.

    Per block the coordinator's two allocations and the worker's two frees of
    them take the lock; the worker's own allocations (heap record 16, array
    2048, 2k - 1 nodes of 32) bump through its pool while they fit, and each
    one that does not takes the lock twice (umalloc, then ufree).
    """
    locks = 0
    for start in range(0, len(data), block_size):
        k = len(set(data[start : start + block_size]))
        used, spilled = 0, 0
        for size in [16, 2048] + [32] * (2 * k - 1):
            if used + size <= pool_size:
                used += size
            else:
                spilled += 1
        locks += 4 + 2 * spilled
    return locks


FILES = ["random_64k.bin", "words_20k.txt"]


@pytest.mark.parametrize("reader", [False, True], ids=["plain", "reader"])
@pytest.mark.parametrize("strategy", ["baseline", "pooled"])
@pytest.mark.parametrize("name", FILES)
def test_threaded_run_is_clean(binary, name, strategy, reader):
    args = [VECTORS / name, strategy] + (["--reader"] if reader else [])
    out = run_engine(binary, *args)
    what = f"{binary[0]} {name} {strategy}{' --reader' if reader else ''}"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stderr}"
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    assert printed(out, "Lock acquisitions") == EXPECTED[name][f"lock_acquisitions_{strategy}"]
    if reader:
        assert printed(out, "Reader polls") > 0


@pytest.mark.parametrize("strategy", ["baseline", "pooled"])
def test_small_batches_and_pools_are_clean(binary, strategy):
    """Batches of 3 and 2 KiB pools: the pooled run spills to the locked heap constantly."""
    name = "random_64k.bin"
    out = run_engine(binary, VECTORS / name, strategy, "--batch", "3", "--pool", "2048", "--reader")
    what = f"{binary[0]} {name} {strategy} --batch 3 --pool 2048 --reader"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stderr}"
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    locks = printed(out, "Lock acquisitions")
    if strategy == "baseline":
        assert locks == EXPECTED[name]["lock_acquisitions_baseline"]
    else:
        assert locks == pooled_locks_model((VECTORS / name).read_bytes(), 2048)
        assert locks > 100 * EXPECTED[name]["lock_acquisitions_pooled"]


@pytest.mark.parametrize("strategy", ["single", "baseline", "pooled"])
def test_heap_sizes_that_are_not_multiples_of_64_are_clean(binary, strategy):
    """C11 aligned_alloc wants a size that is a multiple of the alignment; ASan
    reports "invalid-aligned-alloc-alignment" when it is not (1 MiB + 16 here)."""
    name = "random_64k.bin"
    out = run_engine(
        binary,
        VECTORS / name,
        strategy,
        "--heap",
        str((1 << 20) + 16),
        "--pool",
        "16400",
        "--reader",
    )
    assert_clean(out, f"{binary[0]} {strategy} --heap 1048592")
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stderr}"
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]


@pytest.mark.parametrize("strategy", ["single", "baseline", "pooled"])
def test_pause_and_resume_from_another_thread_is_clean(binary, strategy):
    """Pause/resume all along while a reader copies the heap map: no race, and
    once the engine says it is paused, no counter and no heap-map cell moves."""
    name = "random_64k.bin"
    out = run_engine(
        binary, VECTORS / name, strategy, "--batch", "5", "--pool", "2048", "--reader", "--pauser"
    )
    what = f"{binary[0]} {name} {strategy} --reader --pauser"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "moved while paused" not in out.stdout
    assert printed(out, "Pauses checked") > 0
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]


@pytest.mark.parametrize("strategy", ["single", "floor"])
def test_other_strategies_are_clean(binary, strategy):
    name = "random_64k.bin"
    out = run_engine(binary, VECTORS / name, strategy, "--reader")
    assert_clean(out, f"{binary[0]} {name} {strategy}")
    assert out.returncode == 0, out.stderr
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    assert printed(out, "Lock acquisitions") == 0


LOCK_AND_WORKER_CASES = [
    (strategy, extra)
    for strategy in ("baseline", "pooled", "floor")
    for extra in (
        ["--lock", "spin"],
        ["--lock", "adaptive"],
        ["--workers", "2"],
        ["--workers", "3", "--lock", "spin"],
    )
    if strategy != "floor" or "--workers" in extra  # the floor takes no lock
]


@pytest.mark.parametrize(
    ("strategy", "extra"),
    LOCK_AND_WORKER_CASES,
    ids=[f"{s}-{'-'.join(e).replace('--', '')}" for s, e in LOCK_AND_WORKER_CASES],
)
def test_lock_kinds_and_long_lived_workers_are_clean(binary, strategy, extra):
    """Pause/resume and a reader all along: no race, nothing moves while paused."""
    name = "random_64k.bin"
    out = run_engine(binary, VECTORS / name, strategy, *extra, "--reader", "--pauser")
    what = f"{binary[0]} {name} {strategy} {' '.join(extra)} --reader --pauser"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "moved while paused" not in out.stdout
    assert "went backwards" not in out.stdout
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    want = 0 if strategy == "floor" else EXPECTED[name][f"lock_acquisitions_{strategy}"]
    assert printed(out, "Lock acquisitions") == want


# Issue 11: sizeclass (B) and batched (C) with every lock kind and worker
# mode, a reader and a pauser all along.  batched's count is exact in every
# mode (tests/engine/test_strategies_b_c.py::batched_model); sizeclass's is the
# baseline's plus its slab refills, which depend on how blocks overlap.
B_C_CASES = [
    (strategy, extra)
    for strategy in ("sizeclass", "batched")
    for extra in (
        [],
        ["--lock", "spin"],
        ["--lock", "adaptive"],
        ["--batch", "3"],
        ["--workers", "1"],
        ["--workers", "2", "--lock", "spin"],
    )
]


@pytest.mark.parametrize(
    ("strategy", "extra"),
    B_C_CASES,
    ids=[f"{s}-{'-'.join(e).replace('--', '') or 'default'}" for s, e in B_C_CASES],
)
def test_sizeclass_and_batched_are_clean(binary, strategy, extra):
    from tests.engine.test_strategies_b_c import batched_model, sizeclass_refills_model

    name = "random_64k.bin"
    out = run_engine(binary, VECTORS / name, strategy, *extra, "--reader", "--pauser")
    what = f"{binary[0]} {name} {strategy} {' '.join(extra)} --reader --pauser"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "moved while paused" not in out.stdout
    assert "went backwards" not in out.stdout
    assert printed(out, "Pauses checked") > 0
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    locks = printed(out, "Lock acquisitions")
    baseline = EXPECTED[name]["lock_acquisitions_baseline"]
    data = (VECTORS / name).read_bytes()
    if strategy == "batched":
        assert locks == batched_model(data)["locks"]
    else:
        # one block in flight at least (4 slabs), a batch of 20 at most
        low, high = sizeclass_refills_model(data), sizeclass_refills_model(data, in_flight=20)
        assert baseline + low <= locks <= baseline + high


@pytest.mark.parametrize(
    ("strategy", "extra"),
    [
        ("sizeclass", ["--slab", "2048", "--batch", "5"]),
        ("batched", ["--cache", "1", "--batch", "5"]),
        ("batched", ["--cache", "1024", "--workers", "3"]),
    ],
    ids=["sizeclass-slab2k", "batched-cache1", "batched-cache1024-workers3"],
)
def test_sizeclass_and_batched_other_sizes_are_clean(binary, strategy, extra):
    name = "random_64k.bin"
    out = run_engine(binary, VECTORS / name, strategy, *extra, "--reader")
    assert_clean(out, f"{binary[0]} {name} {strategy} {' '.join(extra)}")
    assert out.returncode == 0, out.stderr
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]


@pytest.mark.parametrize(
    ("strategy", "heap"),
    [("sizeclass", "65536"), ("batched", "16384")],
    ids=["sizeclass", "batched"],
)
@pytest.mark.parametrize(
    "extra", [["--batch", "20"], ["--workers", "2"]], ids=["batch20", "workers2"]
)
def test_sizeclass_and_batched_exhaustion_exits_cleanly(binary, strategy, heap, extra):
    """Slabs never go back, caches hold chunks: a small heap runs out, cleanly."""
    out = run_engine(
        binary, VECTORS / "random_64k.bin", strategy, "--heap", heap, *extra, "--reader"
    )
    assert_clean(out, f"{binary[0]} {strategy} exhaustion")
    assert out.returncode == 3, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "heap exhausted" in out.stderr
    assert "Final signature" not in out.stdout


REAL_ALLOCATORS = ["malloc", "mimalloc", "jemalloc", "tcmalloc"]
# Both sanitizers check what the engine does with the memory the allocators
# give it, not the allocators' own insides, which were built without them:
# - TSan: an uninstrumented allocator's own memset/mmap of its metadata,
#   reused by another thread, looks like a race (mimalloc reclaiming a
#   finished thread's segment); called_from_lib ignores what those libraries
#   do through intercepted calls.  The chunks the engine writes stay checked:
#   strategy_malloc.c tells TSan that a free happens before every later
#   allocation from the same allocator (__tsan_release/__tsan_acquire on the
#   allocator: jemalloc reuses a freed slab for chunks of another size).
# - LeakSanitizer: tcmalloc registers its MallocExtension once, at load time,
#   with an operator new that ASan serves and nobody frees.
# glibc's malloc needs neither: under ASan it is ASan's own, and TSan sees it.
REAL_SUPPRESSIONS = {
    "tsan": (
        "TSAN_OPTIONS",
        "called_from_lib:libmimalloc.so\ncalled_from_lib:libjemalloc.so\n"
        "called_from_lib:libtcmalloc_minimal.so\n",
    ),
    "asan": ("LSAN_OPTIONS", "leak:MallocExtension::Register\n"),
}


@pytest.fixture(scope="session")
def real_allocator_env(binary, tmp_path_factory) -> dict[str, str]:
    """jemalloc's static TLS (see engine/config.py) and the suppressions above."""
    name = binary[0]
    variable, text = REAL_SUPPRESSIONS[name]
    path = tmp_path_factory.mktemp(f"suppressions-{name}") / "real-allocators.supp"
    path.write_text(text)
    options = f"suppressions={path}"
    if variable in SANITIZER_ENV:
        options = f"{SANITIZER_ENV[variable]} {options}"
    env = {variable: options}
    tls = static_tls_environment(os.environ)
    if tls is not None:
        env["GLIBC_TUNABLES"] = tls["GLIBC_TUNABLES"]
    return env


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["per-block", "workers2"])
@pytest.mark.parametrize("strategy", REAL_ALLOCATORS)
def test_real_allocators_are_clean(binary, real_allocator_env, strategy, workers):
    """The workload on malloc and the production allocators, a reader and a
    pauser all along: no race, no error, no leak, the spec's signature, and a
    lock count that is said to be not observable."""
    name = "random_64k.bin"
    out = run_engine(
        binary, VECTORS / name, strategy, *workers, "--reader", "--pauser", env=real_allocator_env
    )
    what = f"{binary[0]} {name} {strategy} {' '.join(workers)} --reader --pauser"
    assert_clean(out, what)
    assert out.returncode == 0, f"{what}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "moved while paused" not in out.stdout
    assert printed(out, "Final signature") == EXPECTED[name]["signature"]
    assert f"Lock acquisitions: not observable ({strategy}'s locks are its own)\n" in out.stdout


@pytest.mark.parametrize("extra", [[], ["--reader"]], ids=["plain", "reader"])
def test_heap_exhaustion_exits_cleanly(binary, extra):
    """An 8 KiB heap cannot hold 20 threads' trees: exit 3 with a message, no report."""
    out = run_engine(binary, VECTORS / "random_64k.bin", "baseline", "--heap", "8192", *extra)
    assert_clean(out, f"{binary[0]} heap exhaustion")
    assert out.returncode == 3, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "heap exhausted" in out.stderr
    assert "Final signature" not in out.stdout


def test_pooled_fallback_exhaustion_exits_cleanly(binary):
    """Pools that overflow into a shared region too small for the spill."""
    out = run_engine(
        binary,
        VECTORS / "random_64k.bin",
        "pooled",
        "--heap",
        "49152",
        "--pool",
        "2048",
        "--reader",
    )
    assert_clean(out, f"{binary[0]} pooled fallback exhaustion")
    assert out.returncode == 3, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "heap exhausted" in out.stderr


@pytest.fixture(scope="module")
def random_256k(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("inputs") / "random_256k.bin"
    path.write_bytes(random.Random(2).randbytes(256 * 1024))
    return path


@pytest.mark.parametrize("strategy", ["baseline", "pooled", "sizeclass", "batched"])
def test_longer_run_with_reader_is_clean(binary, random_256k, strategy):
    """13 batches of 20 threads read all along: more chances for a race to show."""
    out = run_engine(binary, random_256k, strategy, "--reader")
    assert_clean(out, f"{binary[0]} 256 KiB {strategy} --reader")
    assert out.returncode == 0, out.stderr
    reference = run_engine(binary, random_256k, "single")
    assert reference.returncode == 0, reference.stderr
    assert printed(out, "Final signature") == printed(reference, "Final signature")


# Canaries: the same flags and markers do catch a real race, overflow and UB,
# so a clean engine run above means clean, not "the sanitizer never ran".
CANARIES = {
    "tsan": (
        "#include <pthread.h>\nstatic long n;\n"
        "static void *f(void *p) { for (int i = 0; i < 100000; i++) n++; return p; }\n"
        "int main(void) { pthread_t a, b; pthread_create(&a, 0, f, 0);"
        " pthread_create(&b, 0, f, 0); pthread_join(a, 0); pthread_join(b, 0);"
        " return n == 0; }\n"
    ),
    "asan": (
        "#include <stdlib.h>\n"
        "int main(int argc, char **argv) { (void)argv; int *p = malloc(4 * sizeof *p);"
        " p[argc + 3] = 1; int r = p[0]; free(p); return r; }\n"
    ),
    "ubsan": (
        "#include <limits.h>\n"
        "int main(int argc, char **argv) { (void)argv; int x = INT_MAX - 1 + argc;"
        " return x + argc > 0; }\n"
    ),
}


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_sanitizers_report_real_bugs(canary, tmp_path):
    name = "tsan" if canary == "tsan" else "asan"
    source = tmp_path / f"{canary}.c"
    source.write_text(CANARIES[canary])
    exe = tmp_path / canary
    _build(name, [source], exe)
    out = run_engine((name, exe))
    assert out.returncode != 0
    assert any(m in out.stderr for m in REPORT_MARKERS[:3]), out.stderr

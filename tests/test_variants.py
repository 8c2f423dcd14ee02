"""The choice of BLAS kernels and thread counts for the test runs under variants."""

from __future__ import annotations

import pytest
from blas_kernels import check_requested, cpu_flags, family_of, other_family, supported

from emlib._fast.blas import _threads

AVX2 = {"sse4_2", "avx", "avx2", "fma"}
AVX512 = AVX2 | {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def test_flags_are_read_from_the_first_processor():
    text = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma\n\nprocessor\t: 1\nflags\t: fpu\n"
    assert cpu_flags(text) == {"fpu", "sse4_2", "avx", "avx2", "fma"}


def test_families_a_cpu_supports():
    assert supported(AVX2) == ["Haswell", "Sandybridge", "Nehalem"]
    assert supported(AVX512) == ["SkylakeX", "Haswell", "Sandybridge", "Nehalem"]
    assert supported({"sse4_2"}) == ["Nehalem"]


@pytest.mark.parametrize(("current", "flags", "other"), [
    ("Haswell", AVX2, "Sandybridge"),       # an AVX2 machine: the next older family
    ("Zen", AVX2, "Sandybridge"),           # AMD Zen runs the Haswell kernels
    ("SkylakeX", AVX512, "Haswell"),        # an AVX-512 machine
    ("Cooperlake", AVX512, "Haswell"),
    ("Sandybridge", AVX2, "Nehalem"),
    ("Nehalem", {"sse4_2"}, None),          # nothing else to run
])
def test_another_family_is_one_the_cpu_runs(current, flags, other):
    assert other_family(current, flags) == other
    if other is not None:
        assert other in supported(flags) and other != family_of(current)


def test_a_kernel_the_cpu_lacks_is_refused_with_the_fix():
    message = check_requested("SkylakeX", AVX2)
    assert message == (
        "OPENBLAS_CORETYPE=SkylakeX asks for kernels that need the CPU flags avx512bw, avx512cd, "
        "avx512dq, avx512f, avx512vl, which this CPU lacks: every BLAS product would stop with an "
        "illegal instruction. This CPU runs: Haswell, Sandybridge, Nehalem. Unset "
        "OPENBLAS_CORETYPE, or set it to one of those.")
    assert check_requested("Haswell", AVX2) is None
    assert check_requested("skylakex", AVX512) is None
    assert check_requested(None, AVX2) is None
    assert check_requested("SkylakeX", None) is None  # flags unknown: OpenBLAS decides


def test_thread_count_from_the_environment():
    assert _threads(None, 2) == 2
    assert _threads("", 16) == 4
    assert _threads("1", 2) == 1
    assert _threads("6", 2) == 6
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match=r"EMLIB_NUM_THREADS must be a whole number >= 1, "
                                             rf"got '{bad}'; set it"):
            _threads(bad, 2)

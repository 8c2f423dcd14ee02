"""Which OpenBLAS kernel families this CPU can run, for the test runs under other kernels.

OpenBLAS picks its kernels by CPU (``OPENBLAS_CORETYPE`` overrides the choice), and a kernel
family rounds some products differently from another: a checked output of a notebook that
depends on that rounding passes on one machine and fails on the next. ``make test`` therefore
runs the notebooks again under a second family the CPU supports (see ``run_variants.py``).

Requesting a family the CPU lacks does not fall back: the first product dies of an illegal
instruction. :func:`check_requested` turns that into a clear error before any test starts.

Standard library only: it runs before anything imports NumPy.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

# x86-64 families, newest first, with the CPU flags (as /proc/cpuinfo spells them) their
# kernels use. A CPU with the flags of one family can run every older one.
X86_FAMILIES = {
    "SkylakeX": {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"},
    "Haswell": {"avx2", "fma"},
    "Sandybridge": {"avx"},
    "Nehalem": {"sse4_2"},
}
# Names OpenBLAS accepts for the families' own CPUs or for newer ones built on them: a
# CPU reported as one of these runs the family's kernels (threadpoolctl reports the name).
ALIASES = {"Zen": "Haswell", "Cooperlake": "SkylakeX", "SapphireRapids": "SkylakeX"}


def cpu_flags(cpuinfo: str) -> set[str]:
    """The flags of the first processor listed in the text of /proc/cpuinfo."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def supported(flags: set[str]) -> list[str]:
    """The x86-64 kernel families whose flags are all present, newest first."""
    return [family for family, needs in X86_FAMILIES.items() if needs <= flags]


def family_of(architecture: str) -> str:
    """The family of the name OpenBLAS reports (``Zen`` runs the Haswell kernels)."""
    names = {name.lower(): name for name in X86_FAMILIES}
    aliases = {alias.lower(): family for alias, family in ALIASES.items()}
    key = architecture.lower()
    return names.get(key) or aliases.get(key) or architecture


def other_family(current: str, flags: set[str]) -> str | None:
    """A supported family other than ``current``: the next older one, else the newest other."""
    families = supported(flags)
    current = family_of(current)
    if current in families:
        older = families[families.index(current) + 1:]
        if older:
            return older[0]
    others = [f for f in families if f != current]
    return others[0] if others else None


def read_flags() -> set[str] | None:
    """This machine's CPU flags, or None where they cannot be read (not Linux on x86-64)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        return cpu_flags(Path("/proc/cpuinfo").read_text())
    except OSError:
        return None


def check_requested(requested: str | None, flags: set[str] | None) -> str | None:
    """The error for an ``OPENBLAS_CORETYPE`` this CPU cannot run, or None when it can."""
    if not requested or flags is None:
        return None
    family = family_of(requested)
    if family not in X86_FAMILIES:
        return None  # a name we do not know: OpenBLAS decides
    if family in supported(flags):
        return None
    missing = sorted(X86_FAMILIES[family] - flags)
    usable = ", ".join(supported(flags)) or "none of " + ", ".join(X86_FAMILIES)
    return (f"OPENBLAS_CORETYPE={requested} asks for kernels that need the CPU flags "
            f"{', '.join(missing)}, which this CPU lacks: every BLAS product would stop with an "
            f"illegal instruction. This CPU runs: {usable}. Unset OPENBLAS_CORETYPE, or set it "
            f"to one of those.")


def main() -> int:
    problem = check_requested(os.environ.get("OPENBLAS_CORETYPE"), read_flags())
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

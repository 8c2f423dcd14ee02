"""Exercises of notebook 05 (Bernoulli mixtures and the digits).

``05.digits-dims`` (value): clustering 100,000 black-and-white 28 x 28 images of hand-written
digits into one cluster per digit with a Bernoulli mixture. The student gives a dict::

    digits_dims = {"K": ..., "n": ..., "d": ...}   # clusters, samples, Bernoulli variables

whole numbers (``1e5`` is accepted for 100000).
"""

from __future__ import annotations

from .compare import record, whole_number
from .spec import Exercise, Mistake

IMAGE_SIDE = 28  # pixels per side of one image
N_IMAGES = 100_000
N_DIGITS = 10  # the digits 0-9


def _dims() -> dict:
    # One Bernoulli variable per pixel (eq. 5.1), one cluster per digit, one sample per image.
    return {"K": N_DIGITS, "n": N_IMAGES, "d": IMAGE_SIDE * IMAGE_SIDE}


DIGITS_DIMS = Exercise(
    id="05.digits-dims",
    title="Digits: the number of clusters K, samples n and dimensions d",
    points=3,
    kind="value",
    name="digits_dims",
    equation="5.1",
    reference=_dims,
    compare=record({"K": whole_number(), "n": whole_number(), "d": whole_number()}),
    mistakes=(
        Mistake(
            "d-676",
            "d = 676 = 26 x 26, but the images are 28 x 28 pixels: d = 28 x 28 = 784, one "
            "Bernoulli variable x_j in {0, 1} per pixel.",
            "5.1",
            lambda: {**_dims(), "d": 676},
        ),
        Mistake(
            "d-two-per-pixel",
            "each pixel was counted twice (black and white): a black-and-white pixel is one "
            "Bernoulli variable x_j in {0, 1}, so d is the number of pixels, 28 x 28.",
            "5.1",
            lambda: {**_dims(), "d": 2 * IMAGE_SIDE * IMAGE_SIDE},
        ),
        Mistake(
            "k-pixel-values",
            "K = 2 counts the two pixel values; K counts the clusters, one per digit 0-9.",
            "5.4",
            lambda: {**_dims(), "K": 2},
        ),
    ),
)

EXERCISES = (DIGITS_DIMS,)

"""Augmented views of a photo (crops and flips) for the demo's train split."""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from .photos import Photo


@dataclass(frozen=True)
class View:
    """A crop box ``(x0, y0, x1, y1)`` in photo pixels and a horizontal flip.
    (Scale needs no view: the configs resize every image to their input size,
    so a crop is also a zoom.)"""
    box: Tuple[int, int, int, int]
    flip: bool = False


def full_view(photo: Photo) -> View:
    """The whole photo, unchanged."""
    h, w = photo.image.shape[:2]
    return View((0, 0, w, h))


def random_views(photo: Photo, num: int, rng: np.random.Generator,
                 side_range: Tuple[float, float] = (0.7, 0.95)) -> List[View]:
    """``num`` random crops whose sides are ``side_range`` of the photo's,
    each flipped with probability 0.5."""
    h, w = photo.image.shape[:2]
    views = []
    for _ in range(num):
        cw = int(w * rng.uniform(*side_range))
        ch = int(h * rng.uniform(*side_range))
        x0 = int(rng.integers(0, w - cw + 1))
        y0 = int(rng.integers(0, h - ch + 1))
        views.append(View((x0, y0, x0 + cw, y0 + ch),
                          flip=bool(rng.random() < 0.5)))
    return views


def _transform(array: np.ndarray, view: View) -> np.ndarray:
    x0, y0, x1, y1 = view.box
    out = array[y0:y1, x0:x1]
    return np.ascontiguousarray(out[:, ::-1] if view.flip else out)


def apply_view(photo: Photo, view: View, min_area: int = 16) -> Photo:
    """``photo`` seen through ``view``; instances left with fewer than
    ``min_area`` mask pixels are dropped."""
    image = _transform(photo.image, view)
    masks = [_transform(m, view) for m in photo.masks]
    keep = [i for i, m in enumerate(masks) if m.sum() >= min_area]
    h, w = image.shape[:2]
    return Photo(
        name=photo.name, image=image,
        masks=(np.stack([masks[i] for i in keep]) if keep
               else np.zeros((0, h, w), bool)),
        labels=photo.labels[keep], source=photo.source)

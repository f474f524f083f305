"""Tiny synthetic datasets in the COCO and ADE20K layouts, for tests that
run the real data pipelines, metrics and tools on a few small images."""
import json
import os
import os.path as osp
from typing import Tuple

import numpy as np
from PIL import Image

# Real COCO category ids and names, so mmdet's COCO metainfo accepts them.
COCO_CATEGORIES = [dict(id=1, name='person'), dict(id=3, name='car'),
                   dict(id=18, name='dog')]


def _image_with_boxes(rng: np.random.Generator, size: Tuple[int, int],
                      num_objects: int):
    h, w = size
    img = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
    boxes = []
    for _ in range(num_objects):
        bw, bh = rng.integers(w // 5, w // 2), rng.integers(h // 5, h // 2)
        x0, y0 = rng.integers(0, w - bw), rng.integers(0, h - bh)
        label = int(rng.integers(len(COCO_CATEGORIES)))
        img[y0:y0 + bh, x0:x0 + bw] = 80 + 60 * label
        boxes.append((int(x0), int(y0), int(bw), int(bh), label))
    return img, boxes


def write_tiny_coco(root: str, num_images: int = 4,
                    size: Tuple[int, int] = (96, 128), seed: int = 0) -> str:
    """``root/images/*.jpg`` and ``root/annotations/instances_{train,val}
    .json`` (the same images in both), boxes with polygon masks."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        img, boxes = _image_with_boxes(rng, size, num_objects=2)
        name = f'{i:04d}.jpg'
        Image.fromarray(img).save(osp.join(root, 'images', name))
        images.append(dict(id=i + 1, file_name=name, height=size[0],
                           width=size[1]))
        for x, y, bw, bh, label in boxes:
            annotations.append(dict(
                id=len(annotations) + 1, image_id=i + 1,
                category_id=COCO_CATEGORIES[label]['id'],
                bbox=[x, y, bw, bh], area=bw * bh, iscrowd=0,
                segmentation=[[x, y, x + bw, y, x + bw, y + bh, x, y + bh]]))
    coco = dict(images=images, annotations=annotations,
                categories=COCO_CATEGORIES)
    for split in ('train', 'val'):
        with open(osp.join(root, 'annotations',
                           f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)
    return root


def write_tiny_ade(root: str, num_images: int = 4,
                   size: Tuple[int, int] = (96, 128), seed: int = 0) -> str:
    """mmseg's ADE20K layout: ``images/{training,validation}/*.jpg`` and
    ``annotations/{training,validation}/*.png`` with labels 0-150 (0 is
    'other', ignored through ``reduce_zero_label``)."""
    rng = np.random.default_rng(seed)
    for split in ('training', 'validation'):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i in range(num_images):
            img, boxes = _image_with_boxes(rng, size, num_objects=2)
            label_map = np.zeros(size, dtype=np.uint8)
            for x, y, bw, bh, label in boxes:
                label_map[y:y + bh, x:x + bw] = 1 + label * 7
            name = f'ADE_{split}_{i:08d}'
            Image.fromarray(img).save(
                osp.join(root, 'images', split, name + '.jpg'))
            Image.fromarray(label_map).save(
                osp.join(root, 'annotations', split, name + '.png'))
    return root

"""The demo's three models: their keys, titles, configs and the metrics
its table reports (``tools/demo.py``, the ``training`` benchmark)."""
from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class DemoModel:
    key: str
    title: str
    config: str
    metrics: Tuple[str, ...]  # the first one is the headline


MODELS = (
    DemoModel('retinanet', 'RetinaNet',
              'configs/detection/demo/retinanet_poolformer_s12_demo.py',
              ('coco/bbox_mAP', 'coco/bbox_mAP_50')),
    DemoModel('mask_rcnn', 'Mask R-CNN',
              'configs/detection/demo/mask_rcnn_poolformer_s12_demo.py',
              ('coco/bbox_mAP', 'coco/segm_mAP')),
    DemoModel('fpn', 'Semantic FPN',
              'configs/segmentation/demo/fpn_poolformer_s12_demo.py',
              ('mIoU', 'aAcc')),
)

"""The demo dataset: real photos with human-made masks from installed
packages, written in the COCO and mmseg layouts (``python -m
mmpoolformer.demo``)."""
from .builder import SEG_CLASSES, build_demo_data
from .photos import CLASSES, PALETTE, annotated_photos

__all__ = ['CLASSES', 'PALETTE', 'SEG_CLASSES', 'annotated_photos',
           'build_demo_data']

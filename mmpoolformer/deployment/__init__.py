"""ONNX export of mmpoolformer's detectors and segmentors, and inference
with ONNX Runtime. onnx and onnxruntime are optional: see
``requirements/deploy.txt``."""
from .export import (INPUT_NAME, check_dynamic, export_onnx, grouped_outputs,
                     largest_difference, make_exportable, roi_head_path)
from .predict import OnnxPredictor, postprocess
from .runtime import OnnxModel

__all__ = [
    'INPUT_NAME', 'check_dynamic', 'export_onnx', 'grouped_outputs',
    'largest_difference', 'make_exportable', 'roi_head_path',
    'OnnxPredictor', 'postprocess', 'OnnxModel'
]

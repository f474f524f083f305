"""ONNX export of mmpoolformer's detectors and segmentors, and inference
with ONNX Runtime or OpenVINO. onnx, onnxruntime and openvino are optional:
see ``requirements/deploy.txt``."""
from .deployed_model import DeployedModel, deployed_model_config
from .export import (INPUT_NAME, check_dynamic, export_onnx, grouped_outputs,
                     largest_difference, make_exportable, roi_head_path)
from .onnx_runtime import OnnxModel
from .predict import OnnxPredictor, postprocess
from .runtimes import BACKENDS, PRECISIONS, build_runtime

__all__ = [
    'DeployedModel', 'deployed_model_config',
    'INPUT_NAME', 'check_dynamic', 'export_onnx', 'grouped_outputs',
    'largest_difference', 'make_exportable', 'roi_head_path',
    'OnnxPredictor', 'postprocess', 'OnnxModel', 'BACKENDS', 'PRECISIONS',
    'build_runtime'
]

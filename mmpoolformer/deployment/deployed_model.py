"""A deployed graph as an mmengine model, so mmengine's Runner tests it
with the config's own dataset, evaluator and hooks:
``cfg.model = deployed_model_config(cfg.model, 'model.onnx', 'openvino')``.
"""
import os.path as osp
from typing import List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.registry import MODELS as MMENGINE_MODELS

from ..models.builder import MODELS
from .predict import load_roi_head, postprocess
from .runtimes import DEFAULT_CALIB, build_runtime


@MODELS.register_module()
class DeployedModel(BaseModel):
    """``model``'s predictions with its graph (backbone to the heads' maps,
    pytorch2onnx.py's export) run in ``backend`` at ``precision``; the
    config's data preprocessor before and the heads' post-processing after
    (:func:`~mmpoolformer.deployment.postprocess`) stay the libraries'.

    ``data_preprocessor`` is the one mmengine's Runner passes from a
    config's top level; ``model``'s own comes first.

    Only ``mode='predict'`` (testing) and ``mode='tensor'`` run: a graph
    does not train. No checkpoint is loaded: the graph holds the weights
    (and a two-stage detector's ``<graph>.roi_head.pth`` its RoI head's).
    """

    def __init__(self, model: dict, graph: str,
                 backend: str = 'onnxruntime', precision: str = 'auto',
                 threads: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 calib: int = DEFAULT_CALIB) -> None:
        if not osp.isfile(graph):
            raise FileNotFoundError(
                f'{graph!r} does not exist; write it with '
                'tools/deployment/pytorch2onnx.py.')
        if data_preprocessor is not None:  # the Runner's top-level one
            model = dict(model)
            model.setdefault('data_preprocessor', data_preprocessor)
        # The default scope (mmdet or mmseg) builds the library's model.
        inner = MMENGINE_MODELS.build(model)
        super().__init__(data_preprocessor=inner.data_preprocessor)
        # Its heads post-process; its weights (but a two-stage detector's
        # RoI head) are unused: the graph holds them.
        self.library_model = inner.eval()
        load_roi_head(inner, graph)
        self.runtime = build_runtime(graph, backend, precision, threads,
                                     calib)

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[List[torch.Tensor], list]:
        if mode == 'loss':
            raise RuntimeError(
                'DeployedModel runs an exported graph, which does not train; '
                'train the PyTorch model (tools/train.py) and export again.')
        with torch.no_grad():
            outputs = self.runtime(inputs)
            if mode == 'tensor':
                return outputs
            return postprocess(self.library_model,
                               self.runtime.grouped(outputs), data_samples)


def deployed_model_config(model: dict, graph: str, backend: str,
                          precision: str = 'auto',
                          threads: Optional[int] = None,
                          calib: int = DEFAULT_CALIB) -> dict:
    """The ``cfg.model`` that tests ``graph`` instead of ``model`` (the
    config's model, which the graph was exported from)."""
    return dict(type='mmpoolformer.DeployedModel', model=model, graph=graph,
                backend=backend, precision=precision, threads=threads,
                calib=calib)

"""Predictions from an exported graph, with the libraries' own pre- and
post-processing: the config's test pipeline and data preprocessor before,
the heads' ``predict_by_feat`` (mmdet: the same score threshold and NMS)
or the segmentor's resize and argmax after."""
import importlib
import os.path as osp
from typing import Dict, List, Optional

import mmcv
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import BaseDataElement
from torch import nn

from ..libraries import adapter_for, load_config
from .export import is_two_stage, roi_head_path
from .runtimes import DEFAULT_CALIB, build_runtime


def test_pipeline(cfg: Config) -> list:
    """The config's test pipeline without its annotation loading."""
    loaders = adapter_for(cfg.default_scope).annotation_loaders
    return [step for step in cfg.test_dataloader.dataset.pipeline
            if step['type'] not in loaders]


def dataset_meta(cfg: Config) -> dict:
    """Class names and palette of the config's test set."""
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    dataset = cfg.test_dataloader.dataset
    meta = dict(registry.DATASETS.get(dataset.type).METAINFO)
    meta.update(dataset.get('metainfo') or {})
    return meta


def postprocess(model: nn.Module, outputs: Dict[str, List[torch.Tensor]],
                data_samples: list) -> list:
    """Turn the graph's grouped outputs into ``model.predict``'s data
    samples, with ``model``'s own heads and post-processing."""
    metas = [sample.metainfo for sample in data_samples]
    if 'seg_logits' in outputs:
        if model.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError("ONNX inference follows test_cfg.mode='whole';"
                             " set model.test_cfg.mode='whole'.")
        logits = model.decode_head.predict_by_feat(
            outputs['seg_logits'][0], metas)
        return model.postprocess_result(logits, data_samples)
    if 'rpn_cls_scores' in outputs:
        proposals = model.rpn_head.predict_by_feat(
            outputs['rpn_cls_scores'], outputs['rpn_bbox_preds'],
            batch_img_metas=metas, rescale=False)
        results = model.roi_head.predict(
            tuple(outputs['feats']), proposals, data_samples, rescale=True)
    else:
        results = model.bbox_head.predict_by_feat(
            *outputs.values(), batch_img_metas=metas, rescale=True)
    return model.add_pred_to_datasample(data_samples, results)


def load_roi_head(model: nn.Module, onnx_path: str) -> None:
    """Load a two-stage detector's RoI head, which runs in PyTorch, from
    beside its graph (nothing to do for other models)."""
    if not is_two_stage(model):
        return
    path = roi_head_path(onnx_path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} is missing: a two-stage detector runs stage two in '
            'PyTorch with the weights pytorch2onnx.py writes beside the '
            '.onnx file; export again or copy it next to the graph.')
    state = torch.load(path, map_location='cpu', weights_only=True)
    model.roi_head.load_state_dict(state['state_dict'])


class OnnxPredictor:
    """Run ``onnx_path`` (exported from ``config``'s model) on image files,
    in ``backend`` at ``precision`` (see :func:`build_runtime`; ``calib``:
    the INT8 model's calibration photos)."""

    def __init__(self, config: str, onnx_path: str,
                 threads: Optional[int] = None, backend: str = 'onnxruntime',
                 precision: str = 'auto',
                 calib: int = DEFAULT_CALIB) -> None:
        cfg = load_config(config)
        init_default_scope(cfg.default_scope)
        self.adapter = adapter_for(cfg.default_scope)
        self.runtime = build_runtime(onnx_path, backend, precision, threads,
                                     calib)
        self.model = MODELS.build(cfg.model).eval()
        self.model.dataset_meta = dataset_meta(cfg)
        load_roi_head(self.model, onnx_path)
        self.pipeline = Compose(test_pipeline(cfg))
        self._drawing = None

    @torch.no_grad()
    def __call__(self, image_path: str) -> BaseDataElement:
        data = self.pipeline(dict(img_path=image_path, img_id=0))
        batch = self.model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
            False)
        outputs = self.runtime.grouped(self.runtime(batch['inputs']))
        return postprocess(self.model, outputs, batch['data_samples'])[0]

    def _visualizer(self):
        """The library's visualizer, made on first use, one per predictor:
        mmengine keeps each named instance for the process's lifetime."""
        if self._drawing is None:
            visualizer = self.adapter.visualizer(f'onnx:{id(self)}')
            visualizer.dataset_meta = self.model.dataset_meta
            self._drawing = visualizer
        return self._drawing

    def draw(self, image_path: str, prediction: BaseDataElement,
             out_file: str, score_thr: float = 0.3) -> None:
        """Draw ``prediction`` on the image into ``out_file``, with the
        library's own visualizer, as ``tools/image_demo.py`` does."""
        args = self.adapter.draw_args(score_thr)
        image = mmcv.imread(image_path, channel_order='rgb')
        self._visualizer().add_datasample(
            osp.basename(image_path), image, prediction, draw_gt=False,
            out_file=out_file, **args)

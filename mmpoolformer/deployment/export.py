"""Export a detector or segmentor to ONNX and check it against PyTorch.

The graph's one input is the batch the config's data preprocessor makes
(normalised float32, ``B x 3 x H x W``); its outputs are the tensors of
``model(inputs, mode='tensor')``, flattened in order and named
``<group>.<level>``:

* segmentors: ``seg_logits.0``, the decode head's logits;
* one-stage detectors: ``head0.<level>``, ``head1.<level>``, ... the bbox
  head's per-level maps (RetinaNet: class scores, then box deltas);
* two-stage detectors: ``feats.<level>`` (the neck's maps),
  ``rpn_cls_scores.<level>`` and ``rpn_bbox_preds.<level>``. Stage two
  (RoIAlign on the proposals, the RoI heads, NMS) depends on the proposals
  found, so it stays in PyTorch: its weights go beside the graph in
  ``<name>.roi_head.pth`` (see :func:`roi_head_path`).
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..models.backbones.metaformer import MetaFormer
from ..models.backbones.token_mixers import SpatialMlp
from ..testing import largest_difference as _largest_difference
from .dependencies import require

INPUT_NAME = 'inputs'
Groups = List[Tuple[str, List[torch.Tensor]]]


def roi_head_path(onnx_path: str) -> str:
    """Where the stage-two weights of a two-stage detector's graph live."""
    return osp.splitext(onnx_path)[0] + '.roi_head.pth'


def is_two_stage(model: nn.Module) -> bool:
    return hasattr(model, 'rpn_head') and hasattr(model, 'roi_head')


def grouped_outputs(model: nn.Module, inputs: torch.Tensor) -> Groups:
    """The tensors the graph returns, grouped as ``(name, per-level maps)``
    (see the module docstring)."""
    if hasattr(model, 'decode_head'):
        return [('seg_logits', [model._forward(inputs)])]
    if is_two_stage(model):
        feats = model.extract_feat(inputs)
        cls_scores, bbox_preds = model.rpn_head(feats)
        return [('feats', list(feats)), ('rpn_cls_scores', cls_scores),
                ('rpn_bbox_preds', bbox_preds)]
    return [(f'head{i}', list(maps))
            for i, maps in enumerate(model._forward(inputs))]


def output_names(groups: Groups) -> List[str]:
    return [f'{name}.{level}' for name, maps in groups
            for level in range(len(maps))]


class TensorOutputs(nn.Module):
    """``model``'s tensor-mode outputs as one flat tuple, for the exporter.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(t for _, maps in grouped_outputs(self.model, inputs)
                     for t in maps)


class ScaleUpsample(nn.Module):
    """mmseg's ``Upsample(scale_factor=s)`` with its output size computed
    inside the graph.

    mmseg computes the size as ``int(t * s)`` from the input's shape; both
    of torch's exporters record that as a constant, so a graph exported at
    one size upsamples to the wrong size (and Semantic FPN's outputs are
    wrong) at any other. ``recompute_scale_factor=True`` gives the same
    size, ``floor(t * s)``, and the same sampling in PyTorch, and exports
    as a Resize that follows the input.
    """

    def __init__(self, scale_factor, mode: str,
                 align_corners: Optional[bool]) -> None:
        super().__init__()
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.scale_factor,
                             mode=self.mode, align_corners=self.align_corners,
                             recompute_scale_factor=True)


def _fixed_size_upsamplers(model: nn.Module) -> Dict[str, nn.Module]:
    try:
        from mmseg.models.utils import Upsample
    except ImportError:  # then no model holds one
        return {}
    return {name: module for name, module in model.named_modules()
            if isinstance(module, Upsample) and not module.size}


def make_exportable(model: nn.Module) -> List[str]:
    """Make ``model`` (in place) compute the same function in a form the
    exporters follow at every input size; return what was changed, to be
    told to the user."""
    changes = []
    for name, module in _fixed_size_upsamplers(model).items():
        parent, _, child = name.rpartition('.')
        replacement = ScaleUpsample(module.scale_factor, module.mode,
                                    module.align_corners)
        model.get_submodule(parent).register_module(
            child, replacement.train(module.training))
        changes.append(f'{name}: Upsample -> ScaleUpsample (the output size '
                       'follows the input)')
    for name, module in model.named_modules():
        if isinstance(module, MetaFormer) and module.fast_path:
            module.fast_path = False
            changes.append(f'{name}: fast_path=True -> False (the graph is '
                           "the plain model's: the same function)")
    return changes


def check_dynamic(model: nn.Module) -> None:
    """Refuse dynamic input sizes for models that cannot take them."""
    fixed = [name for name, module in model.named_modules()
             if isinstance(module, SpatialMlp)]
    if fixed:
        raise ValueError(
            f"--dynamic: this model has 'spatial_mlp' token mixers ({fixed[0]}"
            f'{" and others" if len(fixed) > 1 else ""}), whose weights fit '
            'one token grid only, so it cannot take dynamic input sizes. '
            'Export without --dynamic, with --shape set to the size it was '
            'built for.')


def export_onnx(model: nn.Module, inputs: torch.Tensor, path: str,
                dynamic: bool = False, opset: Optional[int] = None,
                dynamo: bool = False) -> List[str]:
    """Write ``model``'s tensor-mode forward on ``inputs``-shaped batches
    to ``path``; return the output names. ``dynamic`` makes batch, height
    and width dynamic; ``dynamo`` uses torch's dynamo exporter (needs
    onnxscript) instead of the TorchScript one."""
    require('onnx')
    if dynamo:
        require('onnxscript')
    if dynamic:
        check_dynamic(model)
    model.eval()
    with torch.no_grad():
        names = output_names(grouped_outputs(model, inputs))
    dynamic_args = {}
    if dynamic and dynamo:
        size = torch.export.Dim.DYNAMIC
        dynamic_args['dynamic_shapes'] = ({0: size, 2: size, 3: size}, )
    elif dynamic:
        axes = {INPUT_NAME: {0: 'batch', 2: 'height', 3: 'width'}}
        axes.update({name: {0: 'batch', 2: f'{name}.height',
                            3: f'{name}.width'} for name in names})
        dynamic_args['dynamic_axes'] = axes
    if opset is None:
        opset = 18 if dynamo else 17
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter's notes on what it records as constants:
        # the graph is checked against PyTorch instead.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        # The exporter puts the module it gets back in that module's mode:
        # a wrapper in training mode would leave ``model`` training.
        torch.onnx.export(TensorOutputs(model).eval(), (inputs, ), path,
                          input_names=[INPUT_NAME], output_names=names,
                          opset_version=opset, dynamo=dynamo,
                          **dynamic_args)
    if is_two_stage(model):
        torch.save(dict(state_dict=model.roi_head.state_dict()),
                   roi_head_path(path))
    return names


def largest_difference(model: nn.Module, onnx_path: str,
                       inputs: torch.Tensor, backend: str = 'onnxruntime'
                       ) -> Tuple[float, float]:
    """``(largest |runtime - PyTorch|, largest |PyTorch|)`` over all
    outputs of ``model`` and its graph on ``inputs``, the graph run in
    ``backend`` in f32."""
    from .runtimes import build_runtime
    with torch.no_grad():
        expected = TensorOutputs(model.eval())(inputs)
    actual = build_runtime(onnx_path, backend, 'f32')(inputs)
    return _largest_difference(actual, expected)


def check_shapes(shape: Sequence[int], dynamic: bool
                 ) -> List[Tuple[int, int, int, int]]:
    """The batch shapes to compare on: the example's, and for a dynamic
    graph also a batch of two at another size."""
    height, width = shape
    shapes = [(1, 3, height, width)]
    if dynamic:
        shapes.append((2, 3, height + 32, width + 64))
    return shapes


def default_shape(cfg) -> Tuple[int, int]:
    """The example's height and width: the data preprocessor's fixed size
    (segmentors' crop size) or else a COCO test image's, 800 x 1216."""
    size = cfg.model.get('data_preprocessor', {}).get('size')
    return tuple(size) if size else (800, 1216)


def load_model(config: str, checkpoint: str) -> Tuple[nn.Module, object]:
    """``(model, cfg)``: ``config``'s model with ``checkpoint``'s weights,
    on the CPU in eval mode, loaded by the library's own init function."""
    from ..checkpoints import use_safe_checkpoint_loading
    from ..libraries import adapter_for, load_config
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'Checkpoint {checkpoint!r} does not exist; pass the .pth file '
            'that tools/train.py wrote (or a released one).')
    cfg = load_config(config)
    use_safe_checkpoint_loading()
    model = adapter_for(cfg.default_scope).init_model(cfg, checkpoint,
                                                      device='cpu')
    return model.eval(), cfg

"""The one place that prepares a detector or segmentor for bf16 inference
on the CPU's matrix units (AMX, AVX-512 BF16).

:func:`prepare_bf16_inference` turns a model, in place, into one that
computes its dense part in bf16 and takes and gives fp32:

* the backbone, the neck and the dense heads (``bbox_head``, ``rpn_head``,
  ``decode_head``) get bf16 weights, converted once, and channels_last
  memory, so every convolution runs on oneDNN's bf16 kernels without a cast
  or a layout reorder per call (autocast alone re-casts every weight on
  every call and keeps NCHW maps, which oneDNN reorders);
* the backbone casts its input to bf16 (a forward pre-hook), so the data
  preprocessor's fp32 batch goes in as is, and PoolFormer's fast path runs
  its blocks with oneDNN's fused bf16 linears;
* what the libraries' post-processing reads comes out fp32: the dense
  detection heads' maps (boxes are decoded from them: bf16 has 8 bits of
  mantissa, too few for pixel coordinates), the segmentor's classifier
  ``conv_seg`` stays fp32 (its logits are argmaxed and resized), and a
  two-stage detector's RoI head stays fp32, its RoI extractors reading
  fp32, NCHW maps (mmcv's CPU RoIAlign takes neither bf16 nor
  channels_last).

Everything else (data preprocessor, post-processing, the RoI head) stays
as it was. ``torch.autocast`` around a prepared model is harmless (its bf16
ops are bf16 already), so mmengine's test and val loops with ``fp16=True``
(which is CPU bf16 autocast) run a prepared model as they run any other.
"""
from typing import Any, List

import torch
from mmengine.utils import apply_to
from torch import nn
from torch.utils.hooks import RemovableHandle

from .capability import require_cpu_bf16

# The dense heads that run on the neck's maps, by the attribute names mmdet
# and mmseg give them.
DENSE_HEADS = ('rpn_head', 'bbox_head', 'decode_head')


def _is_float_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point()


def to_dtype(value: Any, dtype: torch.dtype) -> Any:
    """``value`` with every floating-point tensor in it (also inside
    tuples, lists and dicts) cast to ``dtype``."""
    return apply_to(value, _is_float_tensor, lambda t: t.to(dtype))


def _bf16_inputs(module: nn.Module, args: tuple) -> tuple:
    return to_dtype(args, torch.bfloat16)


def _fp32_inputs(module: nn.Module, args: tuple) -> tuple:
    return to_dtype(args, torch.float32)


def _fp32_outputs(module: nn.Module, args: tuple, output: Any) -> Any:
    return to_dtype(output, torch.float32)


def _fp32_nchw_inputs(module: nn.Module, args: tuple) -> tuple:
    return apply_to(args, _is_float_tensor,
                    lambda t: t.float().contiguous())


def fp32_head_outputs(model: nn.Module) -> List[RemovableHandle]:
    """Make ``model``'s dense heads give fp32 maps (mmseg: the classifier
    ``conv_seg`` fp32 logits) also under bf16 autocast, whose bf16 maps
    mmdet's box decoding and mmcv's NMS (fp32 only) cannot take; return
    the hooks' handles, to remove them."""
    handles = []
    for name in DENSE_HEADS:
        head = getattr(model, name, None)
        if head is not None:
            exit_module = getattr(head, 'conv_seg', head)
            handles.append(exit_module.register_forward_hook(_fp32_outputs))
    return handles


def _to_bf16_channels_last(module: nn.Module) -> None:
    module.to(dtype=torch.bfloat16, memory_format=torch.channels_last)


def prepare_bf16_inference(model: nn.Module,
                           flag: str = '--bf16') -> List[str]:
    """Prepare ``model`` (an mmdet detector or mmseg segmentor on the CPU)
    in place for bf16 inference, as the module docstring says; return
    what was changed, one line per part. Raises
    :class:`~mmpoolformer.precision.Bf16UnavailableError` naming ``flag``
    on a CPU without native bf16. A prepared model is for inference only:
    its bf16 weights cannot be trained or saved back as they were."""
    require_cpu_bf16(flag)
    if getattr(model, 'bf16_prepared', False):
        return []
    if not hasattr(model, 'backbone'):
        raise TypeError(
            f'{flag}: prepare_bf16_inference takes an mmdet detector or an '
            f'mmseg segmentor (a model with a backbone), not '
            f'{type(model).__name__}.')
    device = next(model.parameters()).device
    if device.type != 'cpu':
        raise ValueError(f'{flag}: bf16 inference is prepared for the CPU; '
                         f'this model is on {device}.')
    model.eval()
    changes = []
    _to_bf16_channels_last(model.backbone)
    model.backbone.register_forward_pre_hook(_bf16_inputs)
    changes.append('backbone: bf16 weights, channels_last, input cast to '
                   'bf16')
    if getattr(model, 'neck', None) is not None:
        _to_bf16_channels_last(model.neck)
        changes.append('neck: bf16 weights, channels_last')
    for name in DENSE_HEADS:
        head = getattr(model, name, None)
        if head is None:
            continue
        _to_bf16_channels_last(head)
        classifier = getattr(head, 'conv_seg', None)
        if classifier is not None:  # mmseg: logits in fp32
            classifier.float()
            classifier.register_forward_pre_hook(_fp32_inputs)
            changes.append(f'{name}: bf16 weights, channels_last; '
                           'conv_seg fp32')
        else:  # mmdet: maps to decode boxes from in fp32
            head.register_forward_hook(_fp32_outputs)
            changes.append(f'{name}: bf16 weights, channels_last, outputs '
                           'cast to fp32')
    roi_head = getattr(model, 'roi_head', None)
    if roi_head is not None:
        for name, module in roi_head.named_modules():
            if hasattr(module, 'roi_layers'):  # mmdet's RoI extractors
                module.register_forward_pre_hook(_fp32_nchw_inputs)
                changes.append(f'roi_head.{name}: fp32, NCHW inputs')
    model.bf16_prepared = True
    return changes

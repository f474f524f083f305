r"""Parameters and FLOPs of the model a config builds, for one input size.

    python tools/analysis/get_flops.py \
        configs/detection/retinanet_poolformer_s12.py --shape 800 1280

Needs no dataset and no checkpoint: the model is built from the config with
its library's scope and run on a random image of the given size, through
``mmengine.analysis`` (fvcore's counting: one multiply-add is one FLOP, as
the paper's MACs). What is counted depends only on the input size, so every
run gives the same figure:

- segmentors: backbone, neck and decode head (the paper's Semantic FPN
  figure; an auxiliary head, used in training only, is not counted);
- single-stage detectors (RetinaNet): backbone, neck and dense head;
- two-stage detectors (Mask R-CNN): backbone, neck and RPN head. The RoI
  heads are left out: their cost follows the number of proposals, which
  follows the image content (mmdet's own get_flops counts them and changes
  from run to run).

Parameters are always the whole model's. The data preprocessor, box
decoding and NMS are not counted.
"""
import argparse
import importlib
from functools import partial
from math import prod
from typing import Tuple

import torch
from mmengine.analysis import ActivationAnalyzer, FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from torch import nn

from mmpoolformer.libraries import LibraryAdapter, adapter_for, load_config


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=[1280, 800],
                        help='input size: H W, or one number for H = W')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    parser.add_argument('--table', action='store_true',
                        help='also print the per-module table')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        parser.error(f'--shape takes H W or one size, got {args.shape}')
    args.shape = tuple(args.shape * (3 - len(args.shape)))[:2]
    return args


def data_sample(adapter: LibraryAdapter, shape: tuple):
    """A data sample telling the model the image is ``shape``, unscaled."""
    sample = adapter.data_sample()
    sample.set_metainfo(dict(img_shape=shape, ori_shape=shape,
                             pad_shape=shape, batch_input_shape=shape,
                             scale_factor=(1.0, 1.0)))
    return sample


class DenseStages(nn.Module):
    """A two-stage detector up to its RPN head's outputs, the part whose
    cost depends on the input size alone."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, inputs: torch.Tensor) -> tuple:
        return self.detector.rpn_head(self.detector.extract_feat(inputs))


def counted_model(model: nn.Module, adapter: LibraryAdapter,
                  shape: tuple) -> Tuple[nn.Module, str]:
    """What :func:`complexity` traces, and its description: two-stage
    detectors without their RoI heads, other models whole
    (``mode='tensor'``)."""
    if getattr(model, 'roi_head', None) is not None:
        return DenseStages(model), ('backbone, neck and RPN head; not the '
                                    'RoI heads, whose cost follows the '
                                    'proposal count')
    # The tracer takes tensors only: bind the data sample, as mmdet's does.
    model.forward = partial(model.forward,
                            data_samples=[data_sample(adapter, shape)])
    return model, f'backbone, neck and {adapter.dense_head}'


def attention_flop_jit(inputs: list, outputs: list) -> int:
    """Multiply-adds of ``F.scaled_dot_product_attention`` (which mmengine
    does not count): ``q @ k^T`` and ``weights @ v``."""
    q, k, v = (get_shape(value) for value in inputs[:3])
    *batch, queries, dim = q
    return prod(batch) * queries * k[-2] * (dim + v[-1])


def complexity(config: str, shape: tuple, cfg_options=None,
               table: bool = False) -> dict:
    """The FLOPs and parameters (``flops``, ``params``, their ``_str``
    forms, with ``table``: mmengine's per-module ``out_table``) of the
    config's model on a ``shape`` input, and what its FLOPs count
    (``counted``). Attention is counted too."""
    cfg = load_config(config, cfg_options)
    scope = cfg.default_scope
    adapter = adapter_for(scope)
    init_default_scope(scope)
    models = importlib.import_module(f'{scope}.registry').MODELS
    model = revert_sync_batchnorm(models.build(cfg.model)).eval()
    model, counted = counted_model(model, adapter, shape)
    inputs = (torch.rand(1, 3, *shape), )
    with torch.no_grad():
        flops = FlopAnalyzer(model, inputs).set_op_handle(
            'aten::scaled_dot_product_attention', attention_flop_jit)
        info = dict(flops=flops.total(), params=parameter_count(model)[''],
                    counted=counted)
        if table:
            info['out_table'] = complexity_stats_table(
                flops=flops, activations=ActivationAnalyzer(model, inputs),
                show_param_shapes=True)
    info['flops_str'] = f'{info["flops"] / 1e9:.2f}G'
    info['params_str'] = f'{info["params"] / 1e6:.2f}M'
    return info


def main(argv=None) -> None:
    args = parse_args(argv)
    info = complexity(args.config, args.shape, args.cfg_options, args.table)
    if args.table:
        print(info['out_table'])
    print(f'Input shape: (3, {args.shape[0]}, {args.shape[1]})\n'
          f'Flops: {info["flops_str"]} ({info["counted"]})\n'
          f'Params: {info["params_str"]} (the whole model)')


if __name__ == '__main__':
    main()

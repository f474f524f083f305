"""Export a detector or segmentor config with its checkpoint to ONNX, then
check the graph in ONNX Runtime (or OpenVINO) against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out FILE.onnx
        [--shape H W] [--dynamic] [--opset N] [--dynamo]
        [--backend {onnxruntime,openvino}] [--precision int8 [--calib N]]

The graph's input is the data preprocessor's batch (normalised float32
B x 3 x H x W); its outputs are ``model(inputs, mode='tensor')`` flattened
(see ``mmpoolformer/deployment/export.py``). Exits 1 when the runtime's
f32 outputs differ from PyTorch's by more than 1e-3 of the largest output.

``--precision int8`` exports PoolFormer's blocks in their quantizable form
(the same function: ``mmpoolformer/deployment/quantizable.py``), then
quantizes the graph with NNCF for OpenVINO, calibrated on the first
``--calib`` photos of the config's training set, and caches the INT8 model
next to the graph, where ``onnx_inference.py`` and ``test.py`` with
``--precision int8`` find it.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mmpoolformer.deployment import (BACKENDS, export_onnx, largest_difference,
                                     make_exportable)
from mmpoolformer.deployment.export import (check_shapes, default_shape,
                                            load_model, roi_head_path)
from mmpoolformer.deployment.int8_cache import prepare_int8_for_tool
from mmpoolformer.deployment.quantizable import make_quantizable
from mmpoolformer.deployment.runtimes import DEFAULT_CALIB
from mmpoolformer.precision import Int8UnavailableError, require_cpu_int8

TOLERANCE = 1e-3  # of the largest output


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='detection or segmentation config')
    parser.add_argument('checkpoint', help='checkpoint (.pth) of the model')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='example input size (default: the data '
                        "preprocessor's size, else 800 1216)")
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--opset', type=int,
                        help='ONNX opset (default 17, 18 with --dynamo)')
    parser.add_argument('--dynamo', action='store_true',
                        help="torch's dynamo exporter (needs onnxscript; "
                        'slower) instead of the TorchScript one')
    parser.add_argument('--backend', choices=BACKENDS, default='onnxruntime',
                        help='the runtime that checks the graph (in f32)')
    parser.add_argument('--precision', choices=('f32', 'int8'),
                        default='f32',
                        help='int8: also write the INT8 model for OpenVINO '
                        '(the graph in its quantizable form; needs VNNI or '
                        'AMX) (default: f32, the graph only)')
    parser.add_argument('--calib', type=int, default=DEFAULT_CALIB,
                        metavar='N', help='--precision int8: calibrate on '
                        "the first N photos of the config's training set "
                        f'(default: {DEFAULT_CALIB})')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random example inputs')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.shape and min(args.shape) < 32:
        parser.error(f'--shape {args.shape}: give a size of at least 32.')
    if args.precision == 'int8':
        if args.calib < 1:
            parser.error(f'--calib {args.calib}: give at least 1 photo.')
        try:
            require_cpu_int8('--precision int8')
        except Int8UnavailableError as err:
            parser.error(str(err))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    model, cfg = load_model(args.config, args.checkpoint)
    changes = make_exportable(model)
    if args.precision == 'int8':
        changes += make_quantizable(model)
    for change in changes:
        print(f'exporting the equivalent: {change}')
    shapes = check_shapes(args.shape or default_shape(cfg), args.dynamic)
    gen = torch.Generator().manual_seed(args.seed)
    example = torch.randn(shapes[0], generator=gen)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    try:
        names = export_onnx(model, example, args.out, dynamic=args.dynamic,
                            opset=args.opset, dynamo=args.dynamo)
    except (ValueError, ImportError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'wrote {args.out}: input {tuple(example.shape)}'
          f'{" (dynamic batch, height, width)" if args.dynamic else ""}, '
          f'outputs {", ".join(names)}')
    if osp.isfile(roi_head_path(args.out)):
        print(f'wrote {roi_head_path(args.out)}: the RoI head, which runs in '
              'PyTorch on the proposals (onnx_inference.py loads it)')
    failed = False
    for shape in shapes:
        inputs = torch.randn(shape, generator=gen)
        diff, scale = largest_difference(model, args.out, inputs,
                                         args.backend)
        ok = diff <= TOLERANCE * scale
        failed |= not ok
        print(f'{args.backend} (f32) vs PyTorch at {tuple(shape)}: largest '
              f'difference {diff:.3g} (largest output {scale:.3g}) '
              f'{"ok" if ok else "FAILED"}')
    if failed:
        print(f'error: the graph differs from PyTorch by more than '
              f'{TOLERANCE:g} of the largest output', file=sys.stderr)
        return 1
    if args.precision == 'int8' and not prepare_int8_for_tool(
            args.config, args.out, args.calib):
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())

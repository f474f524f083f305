"""Run an exported graph in ONNX Runtime or OpenVINO on images, with the
libraries' own pre- and post-processing, and draw the predictions.

    python tools/deployment/onnx_inference.py CONFIG FILE.onnx INPUTS...
        [--out-dir D] [--score-thr S] [--backend {onnxruntime,openvino}]
        [--precision {auto,f32,bf16,int8}] [--calib N] [--threads N]

INPUTS are image files or folders of them. Each prediction is drawn into
``D/<image name>`` by mmdet's / mmseg's visualizer, as tools/image_demo.py
draws PyTorch's. ``--precision int8`` quantizes the graph (exported with
``pytorch2onnx.py --precision int8``) on the first ``--calib`` photos of the
config's training set, once: the INT8 model is cached next to the graph.
"""
import argparse
import os
import os.path as osp
import sys

from mmpoolformer.cli.images import list_images
from mmpoolformer.deployment import OnnxPredictor
from mmpoolformer.deployment.int8_cache import prepare_int8_for_tool
from mmpoolformer.deployment.runtimes import (add_runtime_args,
                                              check_runtime_args)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the config the graph was exported '
                        'from')
    parser.add_argument('onnx', help='the .onnx file from pytorch2onnx.py')
    parser.add_argument('inputs', nargs='+', help='images, folders or '
                        "quoted glob patterns such as 'photos/*.jpg'")
    parser.add_argument('--out-dir', default='outputs/onnx',
                        help='where the drawn predictions go')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='boxes drawn from this score on (detection)')
    add_runtime_args(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_runtime_args(parser, args)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.onnx):
        print(f'error: {args.onnx!r} does not exist; write it with '
              'tools/deployment/pytorch2onnx.py', file=sys.stderr)
        return 2
    if args.precision == 'int8' and not prepare_int8_for_tool(
            args.config, args.onnx, args.calib):
        return 2
    predictor = OnnxPredictor(args.config, args.onnx, args.threads,
                              args.backend, args.precision, args.calib)
    print(f'running {args.onnx} in {predictor.runtime.description}')
    os.makedirs(args.out_dir, exist_ok=True)
    for path in list_images(args.inputs):
        prediction = predictor(path)
        out_file = osp.join(args.out_dir, osp.basename(path))
        predictor.draw(path, prediction, out_file, args.score_thr)
        print(f'{path}: {summary(prediction)} -> {out_file}')
    return 0


def summary(prediction) -> str:
    if 'pred_instances' in prediction:
        scores = prediction.pred_instances.scores
        return f'{len(scores)} detections'
    labels = prediction.pred_sem_seg.data.unique().tolist()
    return f'classes {labels}'


if __name__ == '__main__':
    sys.exit(main())

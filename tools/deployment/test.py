"""Evaluate an exported graph on the config's test set, in ONNX Runtime or
OpenVINO, with the library's own dataset, metrics and logs.

    python tools/deployment/test.py CONFIG FILE.onnx
        [--backend {onnxruntime,openvino}]
        [--precision {auto,f32,bf16,int8}] [--calib N] [--threads N]
        [--out FILE.pkl|DIR] [--show] [--show-dir DIR]
        [--work-dir DIR] [--cfg-options ...]

mmengine's Runner runs the config's test loop and ``test_evaluator`` (COCO
bbox/segm mAP, mIoU) as ``tools/test.py`` does, with the model swapped for
:class:`~mmpoolformer.deployment.DeployedModel`: the config's data
preprocessor, the graph in the runtime, then the heads' post-processing.
The graph must take the test pipeline's sizes (export with --dynamic).
``--out``, ``--show`` and ``--show-dir`` mean what they mean in
``tools/test.py``. ``--precision int8`` quantizes the graph (exported with
``pytorch2onnx.py --precision int8 --dynamic``) on the first ``--calib``
photos of the config's training set, once: the INT8 model is cached next
to the graph.
"""
import argparse
import os.path as osp
import sys

from mmpoolformer.cli.run_setup import (add_common_args, build_runner,
                                        setup_config)
from mmpoolformer.cli.test_outputs import (add_dump_metric, add_output_args,
                                           apply_output_args,
                                           check_output_args)
from mmpoolformer.deployment import deployed_model_config
from mmpoolformer.deployment.int8_cache import prepare_int8_for_tool
from mmpoolformer.deployment.runtimes import (add_runtime_args,
                                              check_runtime_args)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the config the graph was exported '
                        'from')
    parser.add_argument('model', help='the .onnx file from pytorch2onnx.py')
    add_runtime_args(parser)
    add_output_args(parser)
    add_common_args(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_runtime_args(parser, args)
    check_output_args(args)
    if not osp.isfile(args.model):
        parser.error(f'{args.model!r} does not exist; write it with '
                     'tools/deployment/pytorch2onnx.py --dynamic')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = setup_config(args, ['test_dataloader'])
    if args.precision == 'int8' and not prepare_int8_for_tool(
            cfg, args.model, args.calib):
        return 2
    cfg.model = deployed_model_config(cfg.model, osp.abspath(args.model),
                                      args.backend, args.precision,
                                      args.threads, args.calib)
    cfg.load_from = None  # the graph holds the weights
    apply_output_args(cfg, args)
    runner = build_runner(cfg)
    add_dump_metric(runner, cfg, args)
    runner.logger.info(f'testing {args.model} in '
                       f'{runner.model.runtime.description}')
    runner.test()
    return 0


if __name__ == '__main__':
    sys.exit(main())

r"""Convert a MetaFormer-family checkpoint between the original, timm (the
backbone's own) and mmpretrain key layouts.

    python tools/convert_checkpoint.py \
        poolformer_s12.pth.tar s12_timm.pth --to timm
    python tools/convert_checkpoint.py iter_40000.pth s12.pth --to original

The source format is detected from the keys; a ``--from`` the keys
contradict is refused. A detector's or segmentor's file (our training
checkpoints too) gives its backbone.

Loading is safe (``weights_only=True``) and the output is written
atomically, so an interrupted run never leaves a half-written file.
"""
import argparse

from mmengine.runner.checkpoint import save_checkpoint

from mmpoolformer.checkpoints.weight_files import (convert, load_file,
                                                   unwrap_state_dict)
from mmpoolformer.checkpoints.weight_layouts import FORMATS, detect_format


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint path or URL')
    parser.add_argument('dst', help='where to write the converted file')
    parser.add_argument('--to', required=True, choices=sorted(FORMATS[:3]),
                        help='target key layout')
    parser.add_argument('--from', dest='source', choices=FORMATS,
                        help='source layout (detected when omitted)')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    state_dict = unwrap_state_dict(load_file(args.src))
    source = detect_format(state_dict)
    if args.source not in (None, source):
        raise SystemExit(
            f'{args.src}: --from {args.source}, but its keys are in the '
            f'{source!r} layout (first keys: {list(state_dict)[:3]}). Drop '
            f'--from (it is detected) or pass --from {source}.')
    converted = convert(state_dict, args.to, source=source)
    if not converted:
        raise SystemExit(f'{args.src} holds no PoolFormer weights (first '
                         f'keys: {list(state_dict)[:3]}).')
    save_checkpoint(converted, args.dst,
                    backend_args=dict(backend='atomic_local'))
    print(f'{args.src} ({source}, {len(state_dict)} tensors) -> '
          f'{args.dst} ({args.to}, {len(converted)} tensors)')


if __name__ == '__main__':
    main()

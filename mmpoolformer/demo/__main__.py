"""Build the demo dataset:
``python -m mmpoolformer.demo [--root data/demo]``."""
import argparse

from .builder import build_demo_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--root', default='data/demo',
                        help='output folder (default: data/demo)')
    parser.add_argument('--train-views', type=int, default=12,
                        help='augmented train views per photo (default: 12)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if args.train_views < 1:
        parser.error(f'--train-views must be >= 1, got {args.train_views}')
    counts = build_demo_data(args.root, args.train_views, args.seed)
    for split, c in counts.items():
        print(f'{split}: {c["images"]} images, {c["instances"]} instances')
    print(f'written to {args.root}')


if __name__ == '__main__':
    main()

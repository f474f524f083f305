r"""Generate the model-zoo pages from ``model-index.yml`` and its
metafiles: the README of each config folder (the path its collections'
``README`` names) and ``docs/model_zoo.md``.

    python tools/misc/gen_model_zoo.py            # write the pages
    python tools/misc/gen_model_zoo.py --check    # exit 1 if one is stale
"""
import argparse
import os.path as osp
import sys

from mmpoolformer.model_zoo.readmes import (REGENERATE, render_pages,
                                            stale_pages, write_pages)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', default=REPO,
                        help='repository holding model-index.yml '
                        '(default: this checkout)')
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 naming each page that '
                        'differs from what the metafiles give')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    pages = render_pages(args.root)
    if not args.check:
        for path in write_pages(pages, args.root):
            print(f'wrote {path}')
        return 0
    stale = stale_pages(pages, args.root)
    for path in stale:
        print(f'{osp.join(args.root, path)} is stale or missing; '
              f'regenerate it with: {REGENERATE}', file=sys.stderr)
    return 1 if stale else 0


if __name__ == '__main__':
    sys.exit(main())

r"""Peak memory and time of a backbone forward (inference) on one image.

    python tools/analysis/peak_memory.py caformer_s18 --shape 800 1216
    python tools/analysis/peak_memory.py s12 --shape 512 512 \
        --rounds 5 --threads 2

Builds the dense backbone (``MetaFormer`` for the MetaFormer baselines'
archs, ``PoolFormer`` for its own) with random weights and runs one image
of the given size without gradients. On the CPU it reports how far the
process's peak resident memory rose during the forward (the weights were
already resident, so this is what the forward's maps and attention take);
on CUDA, ``torch.cuda.max_memory_allocated`` beyond the weights. With
``--rounds R`` it also times R more forwards (the CPU's default path, fp32)
and reports their median, with the load average.
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch

from mmpoolformer.models import (ARCH_SETTINGS, BASELINE_ARCHS, MetaFormer,
                                 PoolFormer)

MIB = 2 ** 20


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('arch', choices=sorted(BASELINE_ARCHS) +
                        sorted(ARCH_SETTINGS))
    parser.add_argument('--shape', type=int, nargs=2, default=[800, 1216],
                        metavar=('H', 'W'), help='input size')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--rounds', type=int, default=0,
                        help='also time this many forwards (median)')
    parser.add_argument('--threads', type=int, help='torch threads')
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    scale = 1 if sys.platform == 'darwin' else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    build = MetaFormer if args.arch in BASELINE_ARCHS else PoolFormer
    model = build(args.arch).eval().to(args.device)
    image = torch.randn(1, 3, *args.shape, device=args.device)
    with torch.no_grad():
        if args.device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated() / MIB
            model(image)
            peak = torch.cuda.max_memory_allocated() / MIB - before
        else:
            before = peak_rss_mib()
            model(image)
            peak = peak_rss_mib() - before
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            model(image)
            times.append(time.perf_counter() - start)
    print(f'{args.arch} at {args.shape[0]}x{args.shape[1]} on {args.device}'
          f': forward peak {peak:.0f} MiB above the weights '
          f'({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M '
          'parameters)')
    if times:
        print(f'{args.arch}: {statistics.median(times) * 1e3:.0f} ms per '
              f'image (median of {len(times)}, {torch.get_num_threads()} '
              f'threads, load average {os.getloadavg()[0]:.2f})')
    return dict(arch=args.arch, peak_mib=peak,
                ms=statistics.median(times) * 1e3 if times else None)


if __name__ == '__main__':
    main()

"""The demo behind `make demo`: PoolFormer-S12 RetinaNet, Mask R-CNN and
Semantic FPN learn real photos on the CPU, from scratch.

    python tools/demo.py [--arch convformer_s18] [--only retinanet ...]
                         [--work-dir work_dirs/demo/ARCH] [--threads N]
                         [--bf16]

``--arch`` trains a MetaFormer baseline (PoolFormerV2, ConvFormer, CAFormer)
with the same recipes instead: the demo configs' backbone is swapped through
``--cfg-options`` (mmpoolformer.demo.archs), shown on each command line.
``--bf16`` trains in bf16 on the CPU's AMX units (tools/train.py --bf16).

It builds the demo dataset (``python -m mmpoolformer.demo``), then for each
model evaluates the untrained model with tools/test.py, trains it with
tools/train.py, evaluates it again and draws its predictions. It ends with
a loss-curve figure, a grid of the drawn predictions and a before/after
table (also in summary.md).
``--bf16`` trains under CPU bf16 autocast (``tools/train.py --bf16``); the
evaluations stay fp32.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Any, Dict, List, Sequence

from mmpoolformer.demo.archs import DEFAULT_ARCH, DEMO_ARCHS, cli_options
from mmpoolformer.demo.models import MODELS, DemoModel
from mmpoolformer.testing import load_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA_ROOT = 'data/demo'  # where the demo configs read their data


class Progress:
    """Numbered stage headers with the elapsed time."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.time()

    def stage(self, text: str) -> None:
        self.done += 1
        minutes, seconds = divmod(int(time.time() - self.start), 60)
        print(f'\n==> [{self.done}/{self.total}] {text}   '
              f'({minutes}:{seconds:02d} elapsed)', flush=True)

    def elapsed(self) -> float:
        return time.time() - self.start


def run_tool(name: str, argv: List[str]) -> None:
    """Run tools/<name>.py in this process, echoing its command line."""
    print(f'$ python tools/{name}.py {" ".join(argv)}', flush=True)
    load_tool(name + '.py').main(argv)


def trained_checkpoint(train_dir: str) -> str:
    with open(osp.join(train_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def own_visualizer(model: DemoModel, stage: str) -> List[str]:
    """A visualizer name for each run: the library configs all name theirs
    'visualizer', and mmengine hands a second Runner in the same process the
    first one's instance (writing into the first run's folder)."""
    return [f'visualizer.name=demo_{model.key}_{stage}']


def demo_options(model: DemoModel, arch: str) -> Dict[str, Any]:
    """The ``--cfg-options`` that make ``model``'s demo config train
    ``arch``."""
    from mmpoolformer.demo.archs import arch_options
    from mmpoolformer.libraries import load_config
    return arch_options(arch, load_config(model.config))


def run_model(model: DemoModel, arch: str, work_dir: str,
              photos: Dict[str, str], progress: Progress,
              train_flags: Sequence[str] = ()) -> dict:
    """Evaluate untrained, train, evaluate trained, draw; return figures."""
    from mmpoolformer.demo.predict import (draw_predictions,
                                           save_initial_checkpoint)
    from mmpoolformer.demo.report import (drawn_pictures, read_losses,
                                          read_test_metrics)

    options = demo_options(model, arch)
    arch_args = cli_options(options)
    title = f'{model.title} ({arch})'
    out = osp.join(work_dir, model.key)
    init = osp.join(out, 'init.pth')
    progress.stage(f'{title}: evaluate the untrained model')
    save_initial_checkpoint(model.config, init, cfg_options=options)
    run_tool('test', [model.config, init,
                      '--work-dir', osp.join(out, 'untrained'),
                      '--cfg-options', *arch_args,
                      *own_visualizer(model, 'untrained')])
    before = read_test_metrics(osp.join(out, 'untrained'))

    progress.stage(f'{title}: train from the untrained model')
    run_tool('train', [model.config, *train_flags,
                       '--work-dir', osp.join(out, 'train'),
                       '--cfg-options', *arch_args, f'load_from={init}',
                       'randomness.seed=0', *own_visualizer(model, 'train')])
    checkpoint = trained_checkpoint(osp.join(out, 'train'))

    progress.stage(f'{title}: evaluate the trained model and draw it')
    run_tool('test', [model.config, checkpoint,
                      '--work-dir', osp.join(out, 'trained'),
                      '--show-dir', osp.join(out, 'pictures', 'val'),
                      '--cfg-options', *arch_args,
                      *own_visualizer(model, 'trained')])
    after = read_test_metrics(osp.join(out, 'trained'))
    drawn = draw_predictions(model.config, checkpoint, photos,
                             osp.join(out, 'pictures', 'new_photos'),
                             cfg_options=options)
    iters, losses = read_losses(osp.join(out, 'train'))
    os.remove(init)  # large, and rebuilt in a second
    val_pictures = osp.join(out, 'pictures', 'val')
    return dict(title=title, iters=iters, losses=losses,
                before={k: before.get(k, 0.0) for k in model.metrics},
                after={k: after.get(k, 0.0) for k in model.metrics},
                pictures=[val_pictures, *sorted(drawn.values())],
                grid=[*drawn_pictures(val_pictures),
                      *sorted(drawn.values())])


def summarise(results: Sequence[dict], work_dir: str, seconds: float) -> bool:
    """Print and save the before/after table and the loss curves; return
    whether every model learned (loss halved, headline metric up)."""
    from mmpoolformer.demo.report import (format_table, plot_losses,
                                          plot_prediction_grid)

    rows, learned = [], True
    for r in results:
        first, last = r['losses'][0], r['losses'][-1]
        headline = next(iter(r['before']))
        ok = last <= first / 2 and r['after'][headline] > r['before'][headline]
        learned &= ok
        for i, metric in enumerate(r['before']):
            rows.append([
                r['title'] if i == 0 else '',
                f'{first:.3f} -> {last:.3f}' if i == 0 else '',
                metric, f'{r["before"][metric]:.3f}',
                f'{r["after"][metric]:.3f}',
                ('yes' if ok else 'NO') if i == 0 else ''])
    table = format_table(['model', 'train loss (first -> last log)',
                          'val metric', 'untrained', 'trained', 'learned'],
                         rows)
    curves = plot_losses({r['title']: (r['iters'], r['losses'])
                          for r in results},
                         osp.join(work_dir, 'loss_curves.png'))
    grid = plot_prediction_grid({r['title']: r['grid'] for r in results},
                                osp.join(work_dir, 'predictions.png'))
    minutes, secs = divmod(int(seconds), 60)
    text = (f'{table}\n\nTotal wall time: {minutes} min {secs} s.\n'
            f'Loss curves: {curves}\nPredictions: {grid}\n' + ''.join(
                f'{r["title"]} pictures: {", ".join(r["pictures"])}\n'
                for r in results))
    print('\n' + text)
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(text)
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(dict(results=results, seconds=seconds), f, indent=1)
    return learned


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--arch', default=DEFAULT_ARCH, choices=DEMO_ARCHS, metavar='ARCH',
        help=f'the backbone to train (default: {DEFAULT_ARCH}); one of '
        f'{", ".join(DEMO_ARCHS)}')
    parser.add_argument('--work-dir',
                        help='runs, pictures and the summary go here '
                        '(default: work_dirs/demo/ARCH)')
    parser.add_argument('--only', nargs='+', choices=[m.key for m in MODELS],
                        help='run only these models (default: all three)')
    parser.add_argument(
        '--threads', type=int, default=max(1, (os.cpu_count() or 2) // 2),
        help='torch CPU threads (default: half the cores). Threads wait for '
        'each other, so one busy core slows them all: on a shared machine '
        'fewer are faster.')
    parser.add_argument(
        '--bf16', action='store_true',
        help='train under CPU bf16 autocast (tools/train.py --bf16)')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')
    if args.bf16:
        from mmpoolformer.precision import (Bf16UnavailableError,
                                            require_cpu_bf16)
        try:
            require_cpu_bf16('--bf16')
        except Bf16UnavailableError as error:
            parser.error(str(error))
    args.work_dir = args.work_dir or osp.join('work_dirs', 'demo', args.arch)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.chdir(REPO)  # the demo configs name data/demo relative to the repo
    import torch
    torch.set_num_threads(args.threads)
    sys.path.insert(0, REPO)
    from mmpoolformer.demo import build_demo_data

    models = [m for m in MODELS if not args.only or m.key in args.only]
    progress = Progress(total=1 + 3 * len(models))
    progress.stage(f'build the demo dataset from real photos into {DATA_ROOT}'
                   ' ($ python -m mmpoolformer.demo)')
    counts = build_demo_data(DATA_ROOT)
    print(', '.join(f'{split}: {c["images"]} images, {c["instances"]} '
                    'instances' for split, c in counts.items()))
    infer_dir = osp.join(DATA_ROOT, 'infer')
    photos = {osp.splitext(name)[0]: osp.join(infer_dir, name)
              for name in sorted(os.listdir(infer_dir))}
    os.makedirs(args.work_dir, exist_ok=True)
    train_flags = ['--bf16'] if args.bf16 else []
    results = [run_model(m, args.arch, args.work_dir, photos, progress,
                         train_flags)
               for m in models]
    learned = summarise(results, args.work_dir, progress.elapsed())
    if not learned:
        print('A model did not learn (loss not halved or metric not up): '
              'see the table above.')
    return 0 if learned else 1


if __name__ == '__main__':
    sys.exit(main())

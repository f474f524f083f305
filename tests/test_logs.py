"""Training logs to pictures: the TensorBoard backend, and the docs' commands
that plot loss and metric curves from ``vis_data/scalars.json``
with mmdet's and mmseg's own ``analyze_logs.py``."""
import glob
import os
import os.path as osp
import subprocess
import sys

from mmpoolformer.stacks import installed_stack
from tests.tool_support import packaged_tool

# The libraries' own log plotter, under their packaged tools.
ANALYZE_LOGS = osp.join('analysis_tools', 'analyze_logs.py')


def plot(*args: str) -> None:
    env = dict(os.environ, MPLBACKEND='Agg')
    subprocess.run([sys.executable, *args], env=env, check=True,
                   capture_output=True, timeout=120)


def assert_png(path: str) -> None:
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert osp.getsize(path) > 1000


def test_tensorboard_backend_writes_event_files(tiny_segmentor_run):
    """The event file holds the run's losses, as TensorBoard reads it."""
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    vis_data = osp.dirname(tiny_segmentor_run.scalars)
    [events] = glob.glob(osp.join(vis_data, 'events.out.tfevents.*'))
    accumulator = EventAccumulator(events)
    accumulator.Reload()
    assert 'loss' in accumulator.Tags()['scalars']
    losses = [event.value for event in accumulator.Scalars('loss')]
    assert losses and all(loss > 0 for loss in losses)


def test_mmseg_analyze_logs_plots_loss_and_miou(tiny_segmentor_run,
                                                tmp_path):
    out = str(tmp_path / 'seg_curves.png')
    plot(packaged_tool('mmseg', ANALYZE_LOGS), tiny_segmentor_run.scalars,
         '--keys', 'loss', 'mIoU', '--legend', 'loss', 'mIoU', '--out', out)
    assert_png(out)


def test_mmdet_analyze_logs_plots_losses(tiny_detector_run, tmp_path):
    out = str(tmp_path / 'det_losses.png')
    # OneDL's copy hands --style to matplotlib, which has no 'dark', the
    # default (docs/user_guides/train_test.md).
    style = ['--style', 'default'] if installed_stack().name == 'onedl' else []
    plot(packaged_tool('mmdet', ANALYZE_LOGS), 'plot_curve',
         tiny_detector_run.scalars, '--keys', 'loss_cls', 'loss_bbox',
         '--out', out, *style)
    assert_png(out)

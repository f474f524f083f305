"""The figures of the demo page and the README are the demo's own: its loss
curves and a grid of the predictions it draws, here on a tiny trained run."""
import os.path as osp

import numpy as np
from PIL import Image

from mmpoolformer.demo.predict import draw_predictions
from mmpoolformer.demo.report import drawn_pictures, plot_prediction_grid

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_prediction_grid_of_a_tiny_run(tiny_segmentor_run, tmp_path):
    run = tiny_segmentor_run
    images = drawn_pictures(osp.join(run.data_root, 'images'))[:3]
    assert len(images) == 3
    drawn = draw_predictions(
        run.config, run.checkpoint,
        {osp.splitext(osp.basename(p))[0]: p for p in images},
        str(tmp_path / 'drawn'))
    (tmp_path / 'drawn' / 'notes.txt').write_text('not a picture')
    pictures = drawn_pictures(str(tmp_path / 'drawn'))
    assert pictures == sorted(drawn.values(), key=osp.basename)

    grid = plot_prediction_grid({'Semantic FPN': pictures,
                                 'Its first picture': pictures[:1]},
                                str(tmp_path / 'grid.png'))
    pixels = np.asarray(Image.open(grid).convert('RGB'))
    height, width, _ = pixels.shape
    assert width > 1.5 * height  # three panels side by side, two rows
    # The first row's panels hold the drawn pictures, not blank axes; the
    # second row has one picture and two empty panels.
    first_row, second_row = pixels[:height // 2], pixels[height // 2:]
    assert first_row[:, 2 * width // 3:].std() > 10
    assert second_row[:, 2 * width // 3:].std() < 1


def test_pictures_are_found_in_nested_folders(tmp_path):
    for name in ('b/vis/2.png', 'a.jpg', 'c/1.JPG', 'c/notes.md'):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')
    assert [osp.relpath(p, tmp_path) for p in drawn_pictures(
        str(tmp_path))] == ['c/1.JPG', 'b/vis/2.png', 'a.jpg']


def test_docs_show_the_demo_figures():
    for name in ('demo_loss_curves.png', 'demo_predictions.png'):
        path = osp.join(REPO, 'docs', '_static', name)
        assert Image.open(path).size[0] >= 600
        assert osp.getsize(path) < 600 * 1024  # small enough to commit
    with open(osp.join(REPO, 'README.md')) as f:
        assert 'docs/_static/demo_predictions.png' in f.read()

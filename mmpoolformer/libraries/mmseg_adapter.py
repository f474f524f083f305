"""MMSegmentation behind :class:`~.adapter.LibraryAdapter`."""
import json
import os.path as osp
from typing import Callable, List, Optional

import numpy as np
from mmengine.config import Config

from .library_adapter import LibraryAdapter


class MMSegAdapter(LibraryAdapter):
    scope = 'mmseg'
    fpn_end_level_inclusive = False  # mmseg's FPN stops before end_level
    scores_predictions = False
    annotation_loaders = ('LoadAnnotations', 'mmseg.LoadAnnotations')
    dense_head = 'decode head'

    def data_sample(self):
        from mmseg.structures import SegDataSample
        return SegDataSample()

    def init_model(self, config, checkpoint, device='cpu'):
        from mmseg.apis import init_model
        return init_model(config, checkpoint, device=device)

    def inference(self):
        from mmseg.apis import inference_model
        return inference_model

    def visualizer(self, name: str):
        from mmseg.visualization import SegLocalVisualizer
        return SegLocalVisualizer.get_instance(name)

    def draw_args(self, score_thr: float) -> dict:
        return dict(with_labels=True)

    def run_inferencer(self, cfg: Config, weights: str, paths: List[str],
                       out_dir: str, device: Optional[str],
                       score_thr: float, show: bool, wait_time: float,
                       prepare: Optional[Callable] = None) -> None:
        """Also writes ``predictions.json``: each image's label map file
        and the classes in it."""
        from mmseg.apis import MMSegInferencer
        inferencer = MMSegInferencer(model=cfg, weights=weights,
                                     device=device)
        if prepare is not None:
            prepare(inferencer.model)
        result = inferencer(paths, out_dir=out_dir, show=show,
                            wait_time=wait_time)
        label_maps = result['predictions']
        if len(paths) == 1:  # the Inferencer unwraps a single prediction
            label_maps = [label_maps]
        classes = inferencer.model.dataset_meta['classes']
        index = [dict(image=path, label_map=f'pred/{i:08d}_pred.png',
                      classes=[classes[c] for c in np.unique(label_map)])
                 for i, (path, label_map) in enumerate(zip(paths,
                                                           label_maps))]
        with open(osp.join(out_dir, 'predictions.json'), 'w') as f:
            json.dump(index, f, indent=1)

    def save_drawings(self, cfg: Config, out_dir: str) -> None:
        # mmseg's hook saves through the visualizer, every interval.
        cfg.visualizer['save_dir'] = out_dir
        cfg.default_hooks.visualization['interval'] = 1

    def save_label_maps(self, cfg: Config, out_dir: str) -> None:
        # IoUMetric writes each label map as DIR/<image>.png and still
        # computes the metrics.
        cfg.test_evaluator['output_dir'] = out_dir

"""MMDetection behind :class:`~.adapter.LibraryAdapter`."""
import os.path as osp
import warnings
from copy import deepcopy
from typing import Callable, List, Optional

from mmengine.config import Config

from .library_adapter import LibraryAdapter

# mmdet's tools/test.py: flip TTA for configs without a tta_model.
FLIP_TTA_MODEL = dict(type='DetTTAModel', tta_cfg=dict(
    nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
FLIP_PACK = dict(type='TestTimeAug', transforms=[
    [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
    [dict(type='PackDetInputs', meta_keys=(
        'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
        'flip', 'flip_direction'))]])


class MMDetAdapter(LibraryAdapter):
    scope = 'mmdet'
    fpn_end_level_inclusive = True  # mmdet 3.3: end_level + 1 levels
    scores_predictions = True
    annotation_loaders = ('LoadAnnotations', 'mmdet.LoadAnnotations')
    dense_head = 'dense head'

    def data_sample(self):
        from mmdet.structures import DetDataSample
        return DetDataSample()

    def init_model(self, config, checkpoint, device='cpu'):
        from mmdet.apis import init_detector
        return init_detector(config, checkpoint, device=device)

    def inference(self):
        from mmdet.apis import inference_detector
        return inference_detector

    def visualizer(self, name: str):
        from mmdet.visualization import DetLocalVisualizer
        return DetLocalVisualizer.get_instance(name)

    def draw_args(self, score_thr: float) -> dict:
        return dict(pred_score_thr=score_thr)

    def run_inferencer(self, cfg: Config, weights: str, paths: List[str],
                       out_dir: str, device: Optional[str],
                       score_thr: float, show: bool, wait_time: float,
                       prepare: Optional[Callable] = None) -> None:
        from mmdet.apis import DetInferencer
        inferencer = DetInferencer(model=cfg, weights=weights, device=device)
        if prepare is not None:
            prepare(inferencer.model)
        inferencer(paths, out_dir=out_dir, no_save_pred=False,
                   pred_score_thr=score_thr, show=show, wait_time=wait_time)

    def save_drawings(self, cfg: Config, out_dir: str) -> None:
        # mmdet's hook reads a relative test_out_dir below the work dir.
        cfg.default_hooks.visualization['test_out_dir'] = \
            osp.abspath(out_dir)

    def dump_metric(self, out_file: str):
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out_file)

    def prepare_tta(self, cfg: Config) -> None:
        if 'mask_head' in cfg.model.get('roi_head', {}):
            raise SystemExit(
                f'--tta: {cfg.filename} predicts masks, and mmdet 3.3 '
                "merges augmented boxes only (DetTTAModel: 'TTA of instance "
                "segmentation does not support now'); test without --tta.")
        if 'tta_model' not in cfg:
            warnings.warn('no tta_model in the config: mmdet flip TTA')
            cfg.tta_model = FLIP_TTA_MODEL
        if 'tta_pipeline' not in cfg:
            warnings.warn('no tta_pipeline in the config: the test pipeline '
                          'with mmdet flip TTA')
            dataset = cfg.test_dataloader.dataset
            while 'dataset' in dataset:
                dataset = dataset.dataset
            cfg.tta_pipeline = deepcopy(dataset.pipeline)[:-1] + [FLIP_PACK]

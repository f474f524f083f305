"""What a tool asks of MMDetection or MMSegmentation, behind one
interface, so the tools never branch on the config's scope. Each library's
modules are imported when first used."""
from typing import Callable, List, Optional

from mmengine.config import Config
from torch import nn


class LibraryAdapter:
    """The parts of one library our tools use; see :mod:`.mmdet_adapter`
    and :mod:`.mmseg_adapter`."""

    scope: str = ''
    # Whether its FPN reads ``end_level`` itself (mmdet) or stops before.
    fpn_end_level_inclusive: bool = False
    # Whether predictions carry scores to threshold (detection).
    scores_predictions: bool = False
    annotation_loaders: tuple = ()
    dense_head: str = ''  # what its dense models call their head

    def data_sample(self):
        """An empty data sample of the library (``DetDataSample``,
        ``SegDataSample``)."""
        raise NotImplementedError

    def init_model(self, config, checkpoint: Optional[str],
                   device: str = 'cpu') -> nn.Module:
        """The library's ``init_detector`` / ``init_model``."""
        raise NotImplementedError

    def inference(self) -> Callable:
        """``inference_detector`` / ``inference_model``: ``(model, image)``
        to a data sample."""
        raise NotImplementedError

    def visualizer(self, name: str):
        """A new local visualizer of the library, named ``name``."""
        raise NotImplementedError

    def draw_args(self, score_thr: float) -> dict:
        """What ``add_datasample`` needs besides the sample."""
        raise NotImplementedError

    def run_inferencer(self, cfg: Config, weights: str, paths: List[str],
                       out_dir: str, device: Optional[str],
                       score_thr: float, show: bool, wait_time: float,
                       prepare: Optional[Callable] = None) -> None:
        """The library's Inferencer on ``paths``, writing into
        ``out_dir`` as its demo does; ``prepare(model)`` first, if
        given (e.g. ``prepare_bf16_inference``)."""
        raise NotImplementedError

    def save_drawings(self, cfg: Config, out_dir: str) -> None:
        """Make the test run's visualization hook save into ``out_dir``."""
        raise NotImplementedError

    def save_label_maps(self, cfg: Config, out_dir: str) -> None:
        """``tools/test.py --out DIR``: one predicted label PNG per image."""
        raise SystemExit(f'--out {out_dir}: {self.scope} dumps its '
                         'predictions with pickle; name a .pkl file.')

    def dump_metric(self, out_file: str):
        """The metric that pickles the predictions."""
        from mmengine.evaluator import DumpResults
        return DumpResults(out_file_path=out_file)

    def prepare_tta(self, cfg: Config) -> None:
        """Fill in what test-time augmentation needs beyond the config's
        ``tta_model`` and ``tta_pipeline``."""

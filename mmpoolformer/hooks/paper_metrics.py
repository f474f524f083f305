""":class:`PaperMetricsHook`: after a test on a model-zoo config, the
measured metrics beside the paper's, whichever tool ran the test (ours,
mmdet's or mmseg's, or ``mim test``)."""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..model_zoo.metafiles import compare_with_paper, find_model


@HOOKS.register_module()
class PaperMetricsHook(Hook):
    """After testing a model-zoo config, log the measured metrics beside
    the paper's (from the config's metafile entry); silent for any other
    config, e.g. one that inherits a model-zoo config."""

    priority = 'VERY_LOW'

    def after_test_epoch(self, runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        try:
            model = find_model(runner.cfg.filename or '')
        except FileNotFoundError as err:
            runner.logger.warning(f'No comparison with the paper: {err}')
            return
        if model is not None:
            runner.logger.info('Model zoo: '
                               + compare_with_paper(model, metrics or {}))

"""Models for the demo: the untrained starting point as a checkpoint, and
predictions drawn on photos with mmdet's / mmseg's own visualizers."""
import os
import os.path as osp
from typing import Dict, Optional

import mmcv
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

from ..checkpoints import use_safe_checkpoint_loading
from ..libraries import adapter_for, load_config


def save_initial_checkpoint(config: str, out_file: str, seed: int = 0,
                            cfg_options: Optional[dict] = None) -> str:
    """Build the model of ``config`` (with ``cfg_options`` merged),
    initialise it (``init_weights``, with ``seed``) and save it, so the same
    untrained model can be evaluated by ``tools/test.py`` and then trained
    with ``load_from``."""
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.default_scope)
    from mmengine.registry import MODELS
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(osp.dirname(out_file) or '.', exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(seed=seed, config=config)), out_file)
    return out_file


def draw_predictions(config: str, checkpoint: str, images: Dict[str, str],
                     out_dir: str, score_thr: float = 0.3,
                     cfg_options: Optional[dict] = None) -> Dict[str, str]:
    """Run the trained model of ``config`` (with ``cfg_options`` merged)
    on each image and draw its predictions (boxes and masks, or the class
    map) into ``out_dir/<name>.jpg``."""
    use_safe_checkpoint_loading()
    cfg = load_config(config, cfg_options)
    adapter = adapter_for(cfg.default_scope)
    os.makedirs(out_dir, exist_ok=True)
    infer, draw_args = adapter.inference(), adapter.draw_args(score_thr)
    model = adapter.init_model(cfg, checkpoint, device='cpu')
    visualizer = adapter.visualizer(f'demo:{osp.abspath(out_dir)}')
    visualizer.dataset_meta = model.dataset_meta
    written = {}
    for name, path in images.items():
        image = mmcv.imread(path, channel_order='rgb')
        written[name] = osp.join(out_dir, name + '.jpg')
        visualizer.add_datasample(name, image, infer(model, path),
                                  draw_gt=False, out_file=written[name],
                                  **draw_args)
    return written

"""tools/demo.py --arch: the demo configs train a MetaFormer baseline, its
backbone swapped in through --cfg-options with the neck's widths to match;
an unknown arch is refused with the valid ones named."""
import argparse

import pytest
from mmengine.config import DictAction
from mmengine.registry import MODELS, init_default_scope

from mmpoolformer.config_checks import check_wiring
from mmpoolformer.demo.archs import cli_options
from mmpoolformer.libraries import load_config
from mmpoolformer.testing import load_tool

demo = load_tool('demo.py')
MODEL_KEYS = [m.key for m in demo.MODELS]


def demo_config(key: str, arch: str):
    """The config tools/train.py runs for the demo's ``key`` model: the
    demo config with the options as they reach it on the command line."""
    model = next(m for m in demo.MODELS if m.key == key)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='*', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', *cli_options(demo.demo_options(model, arch))])
    return load_config(model.config, args.cfg_options)


@pytest.mark.parametrize('key', MODEL_KEYS)
@pytest.mark.parametrize('arch', ['convformer_s18', 'poolformerv2_m36'])
def test_arch_swaps_backbone_and_neck_widths(key, arch):
    cfg = demo_config(key, arch)
    backbone = cfg.model.backbone
    assert backbone.type == 'MetaFormer' and backbone.arch == arch
    assert 'fork_last3' not in backbone and backbone.get('init_cfg') is None
    check_wiring(cfg)  # the neck reads the maps the backbone returns
    init_default_scope(cfg.default_scope)
    built = MODELS.build(cfg.model.backbone)
    assert list(cfg.model.neck.in_channels) == built.out_channels
    # RetinaNet's FPN reads stages 2-4 (PoolFormer's fork_last3), the
    # others all four; what PoolFormer-S12's config changes stays.
    first = 1 if key == 'retinanet' else 0
    assert built.out_indices == tuple(range(first, 4))
    default = demo_config(key, 'poolformer_s12')
    assert cfg.model.neck.num_outs == default.model.neck.num_outs
    assert cfg.train_dataloader == default.train_dataloader


def test_default_arch_is_the_demo_configs_own(tmp_path):
    args = demo.parse_args([])
    assert args.arch == 'poolformer_s12'
    assert args.work_dir.endswith('demo/poolformer_s12')
    cfg = demo_config('fpn', args.arch)
    model = next(m for m in demo.MODELS if m.key == 'fpn')
    assert cfg.model == load_config(model.config).model
    assert demo.parse_args(['--arch', 'caformer_s18']).work_dir.endswith(
        'demo/caformer_s18')
    assert demo.parse_args(['--arch', 'caformer_s18', '--work-dir',
                            str(tmp_path)]).work_dir == str(tmp_path)


def test_unknown_arch_refused_naming_valid_ones(capsys):
    with pytest.raises(SystemExit):
        demo.parse_args(['--arch', 'convformer_s12'])
    err = capsys.readouterr().err
    assert "--arch: invalid choice: 'convformer_s12'" in err
    for arch in ('poolformer_s12', 'poolformerv2_s12', 'convformer_s18',
                 'caformer_b36'):
        assert arch in err

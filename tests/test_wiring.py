"""Wrong wiring is named before anything is built, by CheckedRunner (the
runner our configs name, so the libraries' own tools check too) and our
tools: neck widths that do not fit the arch, unknown backbone arguments,
``fork_last3`` with a neck that reads level 0. A backbone built alone, by
any registry, names an unknown argument itself."""
import glob
import importlib
import os.path as osp

import pytest
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import RUNNERS, init_default_scope

from mmpoolformer.config_checks import (WiringError, check_model, check_wiring,
                                        registry_resolver)
from mmpoolformer.libraries import load_config
from mmpoolformer.testing import load_tool
from tests.tool_support import REPO

CONFIGS = osp.join(REPO, 'configs')
# Below CONFIGS (short test ids):
MASK_RCNN = 'detection/mask_rcnn_poolformer_s12.py'
RETINANET = 'detection/retinanet_poolformer_s12.py'
FPN_S12 = 'segmentation/fpn_poolformer_s12.py'
FPN_M36 = 'segmentation/fpn_poolformer_m36.py'
M36_WIDTHS = r'Set model.neck.in_channels=\[96, 192, 384, 768\]'


def our_config(name: str, options: dict = None):
    return load_config(osp.join(CONFIGS, name), options)


def build(name: str, options: dict):
    """Build the model of config ``name`` (with ``options``) as
    CheckedRunner does: its wiring checked, then built by mmengine's
    MODELS in the config's scope."""
    cfg = our_config(name, options)
    init_default_scope(cfg.default_scope)
    check_model(cfg.model, registry_resolver(MMENGINE_MODELS))
    return MMENGINE_MODELS.build(cfg.model)


@pytest.fixture(autouse=True)
def no_fork_last3_in_env(monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)


@pytest.mark.parametrize('config,options', [
    (MASK_RCNN, {'model.backbone.arch': 'm36'}),
    (FPN_M36, {'model.neck.in_channels': [64, 128, 320, 512]}),
])
def test_neck_widths_that_do_not_fit_name_the_right_ones(config, options):
    with pytest.raises(WiringError, match=(
            r'model.neck.in_channels=\[64, 128, 320, 512\] does not fit the '
            r"backbone: PoolFormer arch 'm36' outputs maps of \[96, 192, "
            r'384, 768\] channels. ' + M36_WIDTHS)):
        build(config, options)


def test_legacy_backbone_names_are_checked_with_their_arch():
    """The original configs' ``poolformer_m36_feat``."""
    with pytest.raises(WiringError, match=M36_WIDTHS):
        build(MASK_RCNN, {'model.backbone': dict(
            _delete_=True, type='poolformer_m36_feat')})


def test_out_indices_change_the_widths_asked_for():
    with pytest.raises(WiringError, match=(
            r"arch 's12' with out_indices=\(1, 2, 3\) outputs maps of "
            r'\[128, 320, 512\] channels. Set model.neck.in_channels='
            r'\[128, 320, 512\]')):
        build(FPN_S12, {'model.backbone.out_indices': (1, 2, 3)})


def test_a_decode_head_that_reads_the_backbone_is_checked():
    """A segmentor without a neck: the head's ``in_index`` picks maps."""
    from mmseg.registry import MODELS
    model = dict(backbone=dict(type='PoolFormer', arch='m36'),
                 decode_head=dict(type='UPerHead', in_index=[0, 1, 2, 3],
                                  in_channels=[64, 128, 320, 512]))
    with pytest.raises(WiringError, match=(
            r'Set model.decode_head.in_channels=\[96, 192, 384, 768\]')):
        check_model(model, MODELS.get)
    head = dict(type='FCNHead', in_index=-1, in_channels=768)
    check_model(dict(model, decode_head=head), MODELS.get)
    with pytest.raises(WiringError, match=(
            r'model.decode_head \(FCNHead, in_index=0\) reads that level')):
        check_model(dict(backbone=dict(model['backbone'], fork_last3=True),
                         decode_head=dict(head, in_index=0, in_channels=96)),
                    MODELS.get)


def test_an_int_out_indices_is_checked_as_one_level():
    """PoolFormer takes ``out_indices=3`` for ``(3,)``; so does the check."""
    from mmseg.registry import MODELS
    backbone = dict(type='PoolFormer', arch='s12', out_indices=3)
    head = dict(type='FCNHead', in_index=0, in_channels=512)
    check_model(dict(backbone=backbone, decode_head=head), MODELS.get)
    with pytest.raises(WiringError, match=(
            r"arch 's12' with out_indices=3 outputs maps of \[512\] "
            r'channels. Set model.decode_head.in_channels=512')):
        check_model(dict(backbone=backbone,
                         decode_head=dict(head, in_channels=320)), MODELS.get)


@pytest.mark.parametrize('config,key,close', [
    (MASK_RCNN, 'archh', "'arch'"),
    (FPN_S12, 'drop_path',
     "'drop_path_rate' or 'drop_rate' or 'head_drop_rate'"),
])
def test_unknown_backbone_argument_suggests_the_closest(config, key, close):
    with pytest.raises(WiringError, match=(
            f"model.backbone: PoolFormer has no argument '{key}'; did you "
            f'mean {close}\\? Valid: act_cfg, arch, ')):
        build(config, {f'model.backbone.{key}': 's12'})


@pytest.mark.parametrize('library', ['mmdet', 'mmseg'])
def test_a_backbone_built_alone_is_checked_too(library):
    init_default_scope(library)
    models = importlib.import_module(f'{library}.registry').MODELS
    with pytest.raises(WiringError, match=(
            "PoolFormer has no argument 'out_indexes'; did you mean "
            "'out_indices'")):
        models.build(dict(type='PoolFormer', out_indexes=(1, 2, 3)))
    with pytest.raises(WiringError, match=(
            "poolformer_s12_feat has no argument 'arch'; poolformer_s12_feat "
            "sets it; use type='PoolFormer' to choose it.")):
        models.build(dict(type='poolformer_s12_feat', arch='s12'))


@pytest.mark.parametrize('config,how', [
    (MASK_RCNN, 'config'), (FPN_S12, 'config'), (FPN_S12, 'environment')])
def test_fork_last3_with_a_neck_that_reads_level_0_is_refused(
        config, how, monkeypatch):
    options = {}
    if how == 'config':
        options['model.backbone.fork_last3'] = True
        cause = r'model.backbone.fork_last3=True'
    else:  # only the original's builder names read the variable
        monkeypatch.setenv('FORK_LAST3', '1')
        options['model.backbone'] = dict(
            _delete_=True, type='poolformer_s12_feat', init_cfg=None)
        cause = r'FORK_LAST3 is set in the environment, so the backbone'
    with pytest.raises(WiringError, match=(
            cause + r" leaves the first stage's map unnormalised \(no norm0\),"
            r' but model.neck \(FPN, start_level=0\) reads that level.')):
        build(config, options)


def test_fork_last3_with_a_neck_from_level_1_is_accepted(monkeypatch):
    monkeypatch.setenv('FORK_LAST3', '1')
    for name in (RETINANET, MASK_RCNN):
        check_wiring(our_config(name, {'model.neck.start_level': 1}))


@pytest.mark.parametrize('name', sorted(
    osp.relpath(path, CONFIGS) for path in
    glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    if '_base_' not in path))
def test_our_configs_are_wired_right(name):
    """The check passes, and the widths the neck (or decode head) expects
    are those of the maps the built backbone returns."""
    cfg = our_config(name)
    check_wiring(cfg)
    init_default_scope(cfg.default_scope)
    backbone = MMENGINE_MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    neck = cfg.model.get('neck')
    reader = neck[0] if isinstance(neck, list) else neck or \
        cfg.model.decode_head
    widths = backbone.out_channels
    if 'in_index' in reader:
        widths = [widths[i] for i in reader.in_index]
    assert list(reader.in_channels) == widths


def test_runner_and_tools_refuse_before_building(tmp_path):
    """mmdet's and mmseg's own tools build our configs' CheckedRunner,
    which refuses before building the model; ours refuse before the Runner
    makes its work dir."""
    cfg = our_config(FPN_M36, {'model.neck.in_channels': [64, 128, 320, 512]})
    cfg.work_dir = str(tmp_path / 'runner')
    assert cfg.runner_type == 'CheckedRunner'
    with pytest.raises(WiringError, match=M36_WIDTHS):
        RUNNERS.build(cfg)
    train = load_tool('train.py')
    work_dir = tmp_path / 'ours'
    with pytest.raises(WiringError, match=M36_WIDTHS):
        train.main([osp.join(CONFIGS, FPN_S12), '--work-dir',
                    str(work_dir), '--cfg-options', 'model.backbone.arch=m36'])
    assert not work_dir.exists()


def test_mmdet_fpn_reads_its_end_level_and_mmseg_fpn_stops_before():
    """mmdet 3.3's FPN reads levels start_level..end_level (it builds
    ``end_level + 1`` of them); mmseg's stops before end_level."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmseg.registry import MODELS as SEG_MODELS
    backbone = dict(type='PoolFormer', fork_last3=True)
    neck = dict(type='FPN', in_channels=[64, 128, 320, 512],
                out_channels=8, num_outs=1, start_level=0, end_level=0)
    with pytest.raises(WiringError, match=r'model.neck \(FPN, start_level=0'):
        check_model(dict(backbone=backbone, neck=neck), DET_MODELS.get)
    check_model(dict(backbone=backbone, neck=neck), SEG_MODELS.get)

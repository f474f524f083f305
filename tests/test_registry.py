"""``import mmpoolformer`` registers PoolFormer wherever it can."""
import logging
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import mmpoolformer
from mmpoolformer.models import PoolFormer


@pytest.mark.parametrize('library', ['mmdet', 'mmseg'])
def test_registered_in_both_libraries(library):
    registry = __import__(f'{library}.registry', fromlist=['MODELS']).MODELS
    assert registry.get('PoolFormer') is PoolFormer
    assert registry.get('poolformer_s24_feat') is not None
    assert library in mmpoolformer.REGISTERED


@pytest.mark.parametrize('library', ['mmdet', 'mmseg'])
def test_custom_imports_config_builds_backbone(library, tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(
        "custom_imports = dict(imports=['mmpoolformer'], "
        'allow_failed_imports=False)\n'
        f"default_scope = '{library}'\n"
        "backbone = dict(type='PoolFormer', arch='s12')\n")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{library}.registry', fromlist=['MODELS']).MODELS
    model = registry.build(cfg.backbone)
    assert isinstance(model, PoolFormer) and model.fork_feat
    legacy = registry.build(dict(type='poolformer_s12_feat', style='pytorch'))
    assert isinstance(legacy, PoolFormer)


@pytest.mark.parametrize('missing,present', [('mmseg', 'mmdet'),
                                             ('mmdet', 'mmseg')])
def test_registers_into_one_library_when_the_other_is_absent(
        missing, present):
    code = (
        'import sys\n'
        f'sys.modules[{missing!r}] = None  # as if not installed\n'
        'import mmpoolformer\n'
        f'from {present}.registry import MODELS\n'
        f'assert mmpoolformer.REGISTERED == [{present!r}], '
        'mmpoolformer.REGISTERED\n'
        "assert MODELS.get('PoolFormer') is mmpoolformer.PoolFormer\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')


USER_MIXER = '''
import torch
from torch import nn

from mmpoolformer.registry import TOKEN_MIXERS


@TOKEN_MIXERS.register_module('NAME')
class MaxPooling(nn.Module):
    def __init__(self, dim, pool_size=3):
        super().__init__()
        self.pool = nn.MaxPool2d(pool_size, 1, pool_size // 2)

    def forward(self, x):
        return self.pool(x) - x
'''


@pytest.mark.parametrize('library', ['mmdet', 'mmseg'])
def test_user_mixer_and_norm_by_name_from_a_library_config(
        library, tmp_path, monkeypatch):
    """A mixer added through our registry with custom_imports is usable by
    name from mmdet's and mmseg's scopes, as are our norms."""
    module = f'user_mixers_{library}'
    mixer = f'max_pooling_{library}'  # one name per module: no clash
    (tmp_path / f'{module}.py').write_text(USER_MIXER.replace('NAME', mixer))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(
        f"custom_imports = dict(imports=['mmpoolformer', '{module}'], "
        'allow_failed_imports=False)\n'
        f"default_scope = '{library}'\n"
        "backbone = dict(type='PoolFormer', arch=dict(layers=[1, 1, 1, 1], "
        'embed_dims=[8, 16, 32, 64]), norm_cfg=dict(type="LN2d"), '
        f"token_mixers=['pooling', '{mixer}', '{mixer}', 'attention'])\n")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{library}.registry', fromlist=['MODELS']).MODELS
    model = registry.build(cfg.backbone)
    mixers = [type(model.stages[i].blocks[0].token_mixer).__name__
              for i in range(4)]
    assert mixers == ['Pooling', 'MaxPooling', 'MaxPooling', 'Attention']
    assert type(model.stages[0].blocks[0].norm1).__name__ == 'LayerNorm2d'
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == model.out_channels
    # our scope's name works from any scope
    scoped = registry.build(dict(type='mmpoolformer.PoolFormer',
                                 arch=cfg.backbone.arch))
    assert isinstance(scoped, PoolFormer)


def test_nothing_is_forced_into_other_libraries_registries(monkeypatch):
    from mmengine.registry import MODELS as ROOT

    from mmpoolformer.registry import MODELS
    assert 'LN2d' not in ROOT.module_dict and 'LN2d' in MODELS.module_dict
    assert MODELS.scope == 'mmpoolformer' and MODELS.parent is ROOT
    # a name mmdet already has stays theirs, and the clash is logged
    from mmdet.registry import MODELS as MMDET

    from mmpoolformer.libraries.registration import register_all

    class Other:
        pass

    monkeypatch.setitem(MMDET.module_dict, 'PoolFormer', Other)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        register_all()
    finally:
        logger.removeHandler(handler)
    assert MMDET.module_dict['PoolFormer'] is Other
    assert any("mmdet already has a model named 'PoolFormer'"
               in record.getMessage() for record in records)

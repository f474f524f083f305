"""``import mmpoolformer`` registers PoolFormer wherever it can."""
import subprocess
import sys

import pytest
from mmengine.config import Config
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

"""Loading official, timm and mmpretrain PoolFormer files, safely, and in
both directions between their layouts and ours."""
import os
import pickle
import subprocess
import sys

import pytest
import torch

from mmpoolformer.checkpoints.weight_files import (CheckpointError, convert,
                                                   load_pretrained)
from mmpoolformer.checkpoints.weight_layouts import detect_format, to_ours
from mmpoolformer.models import PoolFormer
from tests import reference_poolformer as ref


@pytest.fixture(scope='module')
def release_file(tmp_path_factory):
    """An official-style release file: the classifier's plain state dict."""
    torch.manual_seed(0)
    model = ref.poolformer('s12')
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.rand_like(p))
    path = tmp_path_factory.mktemp('ckpt') / 'poolformer_s12.pth.tar'
    torch.save(model.state_dict(), path)
    return path, model.state_dict()


def _assert_backbone_equals(model, state_dict):
    state_dict = to_ours(state_dict)
    for key, value in model.state_dict().items():
        if not key.startswith(('norm0', 'norm1', 'norm2', 'norm3')):
            assert torch.equal(value, state_dict[key]), key


def test_release_file_loads_strictly_into_classifier(release_file):
    """Through torch's own load_state_dict (the backbone renames the
    original's keys as it loads) and through init_cfg."""
    path, state = release_file
    model = PoolFormer('s12', fork_feat=False)
    model.load_state_dict(torch.load(path, weights_only=True), strict=True)
    _assert_backbone_equals(model, state)
    model = PoolFormer('s12', fork_feat=False,
                       init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    _assert_backbone_equals(model, state)


@pytest.mark.parametrize('wrap', [None, 'state_dict', 'model'])
def test_init_cfg_loads_release_file_into_dense_backbone(
        release_file, tmp_path, wrap):
    path, state = release_file
    if wrap:
        path = tmp_path / 'wrapped.pth'
        torch.save({wrap: state, 'meta': {'epoch': 3}}, path)
    model = PoolFormer('s12', init_cfg=dict(type='Pretrained',
                                            checkpoint=str(path)))
    model.init_weights()
    _assert_backbone_equals(model, state)
    info = load_pretrained(PoolFormer('s12'), str(path))
    assert info['format'] == 'original'
    assert info['skipped'] == ['head.fc.bias', 'head.fc.weight',
                               'head.norm.bias', 'head.norm.weight']


@pytest.mark.parametrize('fmt', ['timm', 'mmpretrain'])
def test_other_formats_are_detected_and_load(release_file, tmp_path, fmt):
    _, state = release_file
    converted = convert(state, fmt)
    assert detect_format(converted) == fmt
    assert set(converted) != set(state)
    path = tmp_path / f'{fmt}.pth'
    torch.save(converted, path)
    model = PoolFormer('s12', fork_feat=False)
    info = load_pretrained(model, str(path))
    assert info['format'] == fmt and info['skipped'] == []
    _assert_backbone_equals(model, state)
    # and back again
    back = convert(converted, 'original')
    assert back.keys() == state.keys()
    assert all(torch.equal(back[k], v) for k, v in state.items())


def test_our_names_are_timms():
    model = PoolFormer('s12', fork_feat=False)
    timm = model.state_dict()
    assert convert(timm, 'timm').keys() == timm.keys()
    for key in ('stem.conv.weight', 'stages.0.blocks.1.norm1.weight',
                'stages.1.downsample.conv.weight',
                'stages.3.blocks.1.layer_scale2.scale',
                'stages.2.blocks.5.mlp.fc2.bias',
                'head.norm.weight', 'head.fc.weight'):
        assert key in timm


def test_file_for_another_arch_names_mismatched_keys(release_file):
    path, _ = release_file
    model = PoolFormer('m36', init_cfg=dict(type='Pretrained',
                                            checkpoint=str(path)))
    with pytest.raises(CheckpointError,
                       match=r'another arch[\s\S]*stem\.conv\.weight: '
                       r'\(64, 3, 7, 7\) in the file'):
        model.init_weights()


def test_file_with_nothing_matching_is_refused(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match='No key .* matches'):
        load_pretrained(PoolFormer('s12'), str(path))


class _Payload:
    def __reduce__(self):
        return (os.system, ('touch PAYLOAD_RAN',))


def test_pickle_payload_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'patch_embed.proj.weight': _Payload()}, f)
    with pytest.raises(CheckpointError, match='Refused to load .*evil.pth'):
        load_pretrained(PoolFormer('s12'), str(path))
    assert not (tmp_path / 'PAYLOAD_RAN').exists()


def test_missing_file_names_path_and_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth.*cfg-options'):
        load_pretrained(PoolFormer('s12'), str(tmp_path / 'nowhere.pth'))


def test_truncated_file_is_reported(release_file, tmp_path):
    path, _ = release_file
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match='cut.pth'):
        load_pretrained(PoolFormer('s12'), str(cut))


def test_unreachable_url_says_to_use_a_local_file(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    url = 'http://127.0.0.1:9/poolformer_s12.pth.tar'
    with pytest.raises(CheckpointError, match='init_cfg.checkpoint=/path'):
        load_pretrained(PoolFormer('s12'), url)


def test_convert_tool_round_trips_through_every_format(release_file,
                                                       tmp_path):
    path, state = release_file
    tool = os.path.join(os.path.dirname(__file__), '..', 'tools',
                        'convert_checkpoint.py')
    src = str(path)
    for fmt in ('timm', 'mmpretrain', 'original'):
        dst = str(tmp_path / f'{fmt}.pth')
        result = subprocess.run(
            [sys.executable, tool, src, dst, '--to', fmt],
            capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        converted = torch.load(dst, weights_only=True)
        assert detect_format(converted) == fmt
        src = dst
    assert converted.keys() == state.keys()
    assert all(torch.equal(converted[k], v) for k, v in state.items())
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]

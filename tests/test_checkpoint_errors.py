"""Every checkpoint read names the file and what is wrong with it, nothing
is scored silently (a checkpoint must fit the model unless a partial load
is asked for), and convert_checkpoint.py takes our training checkpoints."""
import os.path as osp

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from mmpoolformer.checkpoints import (load_local_checkpoint,
                                      use_safe_checkpoint_loading)
from mmpoolformer.checkpoints.weight_files import CheckpointError, load_file
from mmpoolformer.checkpoints.weight_layouts import to_ours
from mmpoolformer.libraries import import_library, load_config
from tests.tool_support import (DETECTION, mmseg_bases_workaround,
                                packaged_tool, run_tool, write_config)

# mmseg's own tools/test.py: the guard lives in our configs' custom_hooks.
MMSEG_TEST = packaged_tool('mmseg', 'test.py')
NOT_CHECKPOINTS = {
    'empty.pth': (b'', 'the file is empty'),
    'notes.pth': (b'hello, not weights\n', 'not a PyTorch checkpoint'),
    'error_page.pth': (b'<html>404</html>', "starts with b'<html>"),
}


@pytest.fixture(scope='module')
def training_checkpoint(dropout_runs) -> bytes:
    with open(osp.join(dropout_runs['full'], 'iter_6.pth'), 'rb') as f:
        return f.read()


def build_weights(config: str, scope: str, path: str) -> str:
    """Save the state dict of ``config``'s model (built in ``scope``)."""
    import_library(scope)
    init_default_scope(scope)
    torch.save(MODELS.build(load_config(config).model).state_dict(),
               path)
    return path


# How many bytes of a training checkpoint (n bytes) remain: torch raises
# OSError (Errno 22) when about 5-64 KiB remain, RuntimeError otherwise.
CUTS = {'100 bytes': lambda n: 100, '16 KiB': lambda n: 16384,
        'half': lambda n: n // 2, 'all but 22 bytes': lambda n: n - 22}


def write_cut(data: bytes, cut: str, path) -> None:
    path.write_bytes(data[:CUTS[cut](len(data))])


@pytest.mark.parametrize('cut', sorted(CUTS))
def test_training_checkpoint_cut_short_is_named(training_checkpoint,
                                                tmp_path, cut):
    path = tmp_path / 'iter_6.pth'
    write_cut(training_checkpoint, cut, path)
    use_safe_checkpoint_loading()
    with pytest.raises(CheckpointError, match=(
            f"Could not read checkpoint '{path}': it is cut short")):
        load_local_checkpoint(str(path))


def test_cuts_cover_the_errors_torch_raises(training_checkpoint, tmp_path):
    raised = set()
    for cut in CUTS:
        write_cut(training_checkpoint, cut, tmp_path / 'cut.pth')
        with pytest.raises(Exception) as err:
            torch.load(tmp_path / 'cut.pth', weights_only=True)
        raised.add(type(err.value))
    assert {OSError, RuntimeError} <= raised


@pytest.mark.parametrize('name', sorted(NOT_CHECKPOINTS))
def test_file_that_is_no_checkpoint_is_named(name, tmp_path):
    content, reason = NOT_CHECKPOINTS[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=(
            f"Could not read checkpoint '{path}': .*{reason}")):
        load_file(str(path))


def test_cached_download_cut_short_names_url_and_file(
        training_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cached = tmp_path / 'hub' / 'checkpoints' / 'iter_6.pth'
    cached.parent.mkdir(parents=True)
    cached.write_bytes(training_checkpoint[:5000])
    url = 'http://127.0.0.1:9/iter_6.pth'  # offline: only the cache
    with pytest.raises(CheckpointError, match=(
            f"'{cached}' \\(downloaded from {url}\\): it is cut short.*"
            'Delete it')):
        load_file(url)


@pytest.mark.parametrize('tool', ['test', 'resume', 'convert'])
def test_every_tool_names_a_bad_checkpoint(tool, dropout_runs, tmp_path):
    bad = str(tmp_path / 'notes.pth')
    with open(bad, 'wb') as f:
        f.write(b'hello, not weights\n')
    config, work_dir = dropout_runs['config'], str(tmp_path / 'work')
    args = dict(test=['test.py', config, bad, '--work-dir', work_dir],
                resume=['train.py', config, '--resume', bad,
                        '--work-dir', work_dir],
                convert=['convert_checkpoint.py', bad,
                         str(tmp_path / 'out.pth'), '--to', 'timm'])[tool]
    result = run_tool(*args, check=False)
    assert result.returncode != 0
    assert f"CheckpointError: Could not read checkpoint '{bad}': it is " \
        'not a PyTorch checkpoint' in result.stderr
    assert 'KeyError' not in result.stderr
    assert 'OSError' not in result.stderr


@pytest.fixture(scope='module')
def detector_weights(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp('detector')
    config = write_config(str(tmp / 'det.py'), DETECTION, 'unused/')
    return build_weights(config, 'mmdet', str(tmp / 'retinanet.pth'))


@pytest.mark.parametrize('tool', ['test.py', 'train.py', MMSEG_TEST])
def test_detector_file_on_a_segmentor_is_refused_listing_keys(
        tool, dropout_runs, detector_weights, tmp_path):
    args = ([tool, dropout_runs['config'], '--cfg-options',
             f'load_from={detector_weights}'] if tool == 'train.py' else
            [tool, dropout_runs['config'], detector_weights])
    path = (mmseg_bases_workaround(str(tmp_path)) if tool == MMSEG_TEST
            else [])
    result = run_tool(*args, '--work-dir', str(tmp_path / 'work'),
                      check=False, path=path)
    assert result.returncode != 0
    message = result.stderr
    assert f'{detector_weights} does not fit this EncoderDecoder' in message
    assert 'in the model, missing from the file' in message
    assert 'decode_head.conv_seg.weight' in message
    assert 'in the file, not in the model' in message
    assert 'bbox_head.retina_cls.weight' in message
    assert '--allow-partial-load' in message
    assert not osp.exists(osp.join(tmp_path, 'work', 'iter_2.pth'))


def test_partial_load_only_when_asked(dropout_runs, detector_weights,
                                      tmp_path):
    result = run_tool('test.py', dropout_runs['config'], detector_weights,
                      '--work-dir', str(tmp_path), '--allow-partial-load')
    log = result.stdout + result.stderr
    assert 'Loading part of a checkpoint, as allow_partial_load asks' in log
    assert 'mIoU' in log


def test_matching_file_is_scored(dropout_runs, tmp_path):
    weights = build_weights(dropout_runs['config'], 'mmseg',
                            str(tmp_path / 'fpn.pth'))
    result = run_tool('test.py', dropout_runs['config'], weights,
                      '--work-dir', str(tmp_path))
    log = result.stdout + result.stderr
    assert 'mIoU' in log
    assert 'does not fit' not in log and 'do not match' not in log


def test_convert_takes_the_backbone_of_a_training_checkpoint(
        dropout_runs, tmp_path):
    use_safe_checkpoint_loading()
    src = osp.join(dropout_runs['full'], 'iter_6.pth')
    dst = str(tmp_path / 'backbone.pth')
    run_tool('convert_checkpoint.py', src, dst, '--to', 'original')
    weights = load_local_checkpoint(src)['state_dict']
    converted = torch.load(dst, weights_only=True)
    backbone = {k[len('backbone.'):]: v for k, v in weights.items()
                if k.startswith('backbone.')}
    assert 'patch_embed.proj.weight' in converted  # sail-sg's names
    back = to_ours(converted)
    assert back.keys() == backbone.keys()
    assert all(torch.equal(back[k], v) for k, v in backbone.items())


def test_convert_refuses_a_from_the_keys_contradict(dropout_runs, tmp_path):
    src = osp.join(dropout_runs['full'], 'iter_6.pth')
    result = run_tool('convert_checkpoint.py', src,
                      str(tmp_path / 'out.pth'), '--to', 'original',
                      '--from', 'timm', check=False)
    assert result.returncode != 0
    assert f"{src}: --from timm, but its keys are in the 'detector' layout" \
        in result.stderr
    assert not osp.exists(tmp_path / 'out.pth')

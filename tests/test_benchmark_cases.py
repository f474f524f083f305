"""tools/analysis/benchmark.py runs each case on tiny shapes (``--smoke``)
and writes one results file per case: every variant timed against the
case's baseline, the per-round spread ordered, the machine described."""
import json
import math
import os.path as osp

import pytest
import torch

from mmpoolformer.benchmarking.cases import CASES
from mmpoolformer.demo import build_demo_data
from mmpoolformer.precision import bf16_support, int8_units
from mmpoolformer.testing import load_tool

benchmark = load_tool('analysis/benchmark.py')
BF16 = bf16_support().native


def run(tmp_path, *argv):
    """Run the entry point with ``argv``; the one results file's record."""
    [path] = benchmark.main([*argv, '--smoke', '--threads', '1',
                             '--results-dir', str(tmp_path)])
    assert osp.dirname(path) == str(tmp_path)
    with open(path) as f:
        record = json.load(f)
    assert osp.basename(path).startswith(f'{argv[0]}_')
    assert osp.basename(path).endswith('.json')
    assert f'_{record["machine"]["threads"]}t_' in osp.basename(path)
    return record


def variants(record, step=None):
    return {row['variant']: row for row in record['rows']
            if step is None or row['step'] == step}


def assert_timed_against(rows, baseline, rounds):
    """Every row timed ``rounds`` rounds against ``baseline``, its spread
    ordered, the baseline at exactly 1x."""
    for row in rows:
        speedup = row['speedup']
        assert row['baseline'] == baseline and row['rounds'] == rounds
        assert row['median_ms'] > 0
        assert speedup['min'] <= speedup['median'] <= speedup['max']
        if row['variant'] == baseline:
            assert speedup == dict(median=1., min=1., max=1.)


def test_list_prints_every_case(capsys):
    assert benchmark.main(['--list']) == []
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()
            if not line.startswith(' ')] == list(CASES)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(SystemExit, match='unknown case nope; the cases: '
                       'backbone'):
        benchmark.main(['nope', '--results-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='--models s99: the backbone case '
                       'knows s12'):
        benchmark.main(['backbone', '--models', 's99', '--results-dir',
                        str(tmp_path)])
    assert not list(tmp_path.iterdir())


def test_backbone_times_fast_path_against_the_original(tmp_path):
    record = run(tmp_path, 'backbone', '--rounds', '2', '--bf16')
    machine = record['machine']
    for key in ('cpu', 'matrix_units', 'threads', 'versions', 'commit',
                'matmul'):
        assert key in machine
    assert machine['threads'] == 1 and machine['versions']['torch']
    assert set(record['load_average']) == {'start', 'end'}
    assert record['command'] == ('tools/analysis/benchmark.py backbone '
                                 '--rounds 2 --bf16 --smoke --threads 1 '
                                 f'--results-dir {tmp_path}')
    assert record['options']['smoke'] and record['options']['bf16']
    for step in ('inference', 'training'):
        rows = variants(record, step)
        assert set(rows) == {'original', 'fast_path', 'original+bf16',
                             'fast_path+bf16'}
        assert_timed_against(rows.values(), 'original', 2)
        assert all(row['model'] == 's12' and row['shape'] == '1x3x64x48'
                   and row['peak_mib'] > 0 for row in rows.values())
        assert rows['original']['notes']['drift'] == 0
        assert rows['fast_path']['notes']['drift'] < 1e-4
        assert 0 < rows['fast_path+bf16']['notes']['drift'] < 5e-2
    grads = variants(record, 'training')
    assert grads['fast_path']['notes']['grad_drift'] < 1e-3
    assert 'grad_drift' not in grads['fast_path+bf16']['notes']


def test_model_times_each_runner_and_part(tmp_path):
    record = run(tmp_path, 'model', '--models', 'fpn', '--rounds', '1',
                 '--profile')
    expected = {'original fp32', 'default fp32'} | (
        {'bf16 prepared', 'bf16 autocast'} if BF16 else set())
    for step in ('inference', 'inference: backbone', 'inference: neck',
                 'inference: heads'):
        rows = variants(record, step)
        assert set(rows) == expected, step
        assert_timed_against(rows.values(), 'original fp32', 1)
    drifts = {name: row['notes']['drift']
              for name, row in variants(record, 'inference').items()}
    assert drifts['original fp32'] == 0 and drifts['default fp32'] < 1e-4
    if BF16:
        assert 0 < drifts['bf16 prepared'] < 5e-2


def test_deployment_times_the_runtimes_against_eager(tmp_path):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('openvino')
    record = run(tmp_path, 'deployment', '--models', 'fpn', '--rounds', '1')
    rows = variants(record)
    assert {'eager', 'eager fast_path', 'ONNX Runtime',
            'OpenVINO f32'} <= set(rows)
    assert_timed_against(rows.values(), 'eager', 1)
    assert rows['ONNX Runtime']['notes']['drift'] < 1e-4


@pytest.mark.skipif(not int8_units(), reason='no int8 dot products')
def test_int8_times_quantized_models_against_openvino(tmp_path):
    pytest.importorskip('nncf')
    record = run(tmp_path, 'int8', '--models', 'fpn', '--rounds', '1')
    rows = variants(record)
    baseline = 'OpenVINO bf16' if BF16 else 'OpenVINO f32'
    assert {baseline, 'OpenVINO f32', 'INT8 NNCF default', 'INT8'} \
        | ({'INT8 f32 floats'} if BF16 else set()) == set(rows)
    assert_timed_against(rows.values(), baseline, 1)
    assert record['machine']['int8_units'] == int8_units()
    assert record['machine']['versions']['nncf']
    # Quantized: not the float graph's outputs, not far from them either.
    assert 0 < rows['INT8']['notes']['drift'] < 0.5


def test_family_times_the_fast_path_against_the_original(tmp_path,
                                                         monkeypatch):
    """The original variant (``fast_path=False``) runs no oneDNN product,
    the fast one does."""
    from mmpoolformer.models.backbones import onednn_kernels
    calls = []
    linear = onednn_kernels.linear
    monkeypatch.setattr(onednn_kernels, 'linear',
                        lambda *a: calls.append(1) or linear(*a))
    from mmpoolformer.benchmarking.cases.building import Step, twins
    from mmpoolformer.models import MetaFormer
    original, fast = twins(MetaFormer, 'poolformerv2_s12', seed=0)
    x = torch.randn(1, 3, 32, 32)
    Step(original, x)()
    assert not calls
    Step(fast, x)()
    assert calls
    record = run(tmp_path, 'family', '--models', 'poolformerv2_s12',
                 '--rounds', '1')
    for step in ('inference', 'training'):
        rows = variants(record, step)
        assert set(rows) == {'original', 'fast_path'}
        assert_timed_against(rows.values(), 'original', 1)


def test_roi_align_times_the_gather_against_mmcv(tmp_path):
    record = run(tmp_path, 'roi_align', '--rounds', '2')
    assert [row['model'] for row in record['rows']] == ['demo', 'demo',
                                                        'coco', 'coco']
    rows = variants(record)
    assert set(rows) == {'mmcv', 'CPURoIAlign'}
    assert_timed_against(record['rows'], 'mmcv', 2)
    assert rows['mmcv']['shape'] == '2x256x12x16, 5 RoIs'


def test_memory_measures_the_forward_by_arch(tmp_path):
    record = run(tmp_path, 'memory', '--models', 's12', 'poolformerv2_s12',
                 '--rounds', '1')
    assert [row['model'] for row in record['rows']] == ['s12',
                                                        'poolformerv2_s12']
    for row in record['rows']:
        assert row['baseline'] is None and row['speedup'] is None
        assert row['peak_mib'] > 0 and row['median_ms'] > 0
        assert row['notes']['params_m'] > 1


def test_training_times_the_demo_steps(tmp_path):
    data = tmp_path / 'demo'
    build_demo_data(str(data), train_views=1, seed=0)
    record = run(tmp_path / 'results', 'training', '--models', 'fpn',
                 '--rounds', '1', '--data-root', str(data))
    rows = variants(record)
    assert set(rows) == {'original fp32', 'default fp32'} | (
        {'default bf16'} if BF16 else set())
    assert_timed_against(rows.values(), 'original fp32', 1)
    assert rows['original fp32']['shape'].startswith('2x3x')
    losses = [row['notes']['first_loss'] for row in rows.values()]
    assert all(map(math.isfinite, losses))
    assert math.isclose(losses[0], losses[1], rel_tol=1e-4)


def test_missing_demo_data_stops_the_run_before_any_case(tmp_path):
    with pytest.raises(SystemExit, match='missing: build the demo data '
                       r'first \(python -m mmpoolformer.demo\)'):
        benchmark.main(['roi_align', 'training', '--smoke', '--data-root',
                        str(tmp_path / 'missing'), '--results-dir',
                        str(tmp_path / 'results')])
    assert not (tmp_path / 'results').exists()

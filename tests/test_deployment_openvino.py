"""OpenVINO beside ONNX Runtime (issue 22): f32 equals PyTorch, bf16 keeps
the label maps on real photos, and a deployed graph evaluated by
tools/deployment/test.py scores as tools/test.py does on the same weights.

Tiny seeded models (one block per stage) on 64 px graphs keep this fast.
"""
import glob
import pickle
import re
from typing import Dict

import numpy as np
import pytest
import torch
from PIL import Image

from mmpoolformer.deployment import OnnxPredictor, build_runtime
from mmpoolformer.deployment.runtimes import choose_precision
from mmpoolformer.precision import Bf16Support, Bf16UnavailableError
from mmpoolformer.testing import load_tool
from tests.model_support import build
from tests.tiny_data import write_tiny_ade, write_tiny_coco
from tests.tool_support import DETECTION, SEGMENTATION, run_tool, write_config

pytest.importorskip('onnxruntime')
pytest.importorskip('openvino')

# tests.tiny_data's ADE classes after reduce_zero_label: 1, 8, 15 -> 0, 7, 14.
TINY_ADE_CLASSES = (0, 7, 14)
PHOTOS = ('astronaut', 'chelsea', 'coffee')


def tiny_models(root) -> Dict[str, tuple]:
    """``name: (config, checkpoint, graph)``: seeded tiny models with norm
    affines around 1, exported with dynamic sizes. ``'fpn_data_classes'``
    predicts only the tiny data's classes, so its mIoU is not zero."""
    made = {}
    for name, template, write in (
            ('fpn', SEGMENTATION, write_tiny_ade),
            ('fpn_data_classes', SEGMENTATION, write_tiny_ade),
            ('retinanet', DETECTION, write_tiny_coco)):
        data = write(str(root / f'{name}_data')) + '/'
        config = write_config(str(root / f'{name}.py'), template, data)
        model = build(config)
        if name == 'fpn_data_classes':
            with torch.no_grad():
                bias = model.decode_head.conv_seg.bias
                bias.fill_(-20.)
                bias[list(TINY_ADE_CLASSES)] = 0.
        checkpoint = str(root / f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
        graph = str(root / f'{name}.onnx')
        assert load_tool('deployment/pytorch2onnx.py').main(
            [config, checkpoint, '--out', graph, '--shape', '64', '64',
             '--dynamic']) == 0
        made[name] = (config, checkpoint, graph)
    return made


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    from mmpoolformer.demo.photos import inference_photos
    root = tmp_path_factory.mktemp('openvino')
    made = tiny_models(root)
    photos = inference_photos()
    for name in PHOTOS:
        made[name] = str(root / f'{name}.png')
        Image.fromarray(photos[name]).save(made[name])
    return made


def test_f32_graph_equals_pytorch(tiny, capsys):
    """pytorch2onnx.py --backend openvino checked both graphs in OpenVINO
    f32 at 64 x 64 and at a batch of two at 96 x 128."""
    config, checkpoint, graph = tiny['fpn']
    assert load_tool('deployment/pytorch2onnx.py').main(
        [config, checkpoint, '--out', graph, '--shape', '64', '64',
         '--dynamic', '--backend', 'openvino']) == 0
    report = capsys.readouterr().out
    assert report.count('openvino (f32) vs PyTorch') == 2
    assert report.count(') ok') == 2, report
    runtime = build_runtime(graph, 'openvino', 'f32')
    assert runtime.precision == 'f32'
    assert runtime.input_shape == [None, 3, None, None]


@pytest.mark.skipif(not choose_precision('openvino')[0] == 'bf16',
                    reason='this CPU has no native bf16')
def test_bf16_label_maps_on_photos(tiny):
    """OpenVINO's bf16 (its default on AMX) and the fp32 model agree on at
    least 99% of the pixels of each real photo."""
    config, _, graph = tiny['fpn']
    f32 = OnnxPredictor(config, graph, backend='openvino', precision='f32')
    bf16 = OnnxPredictor(config, graph, backend='openvino')
    assert bf16.runtime.precision == 'bf16'
    assert 'auto: this CPU has' in bf16.runtime.description
    for name in PHOTOS:
        want = f32(tiny[name]).pred_sem_seg.data
        got = bf16(tiny[name]).pred_sem_seg.data
        assert len(want.unique()) > 1  # not one class everywhere
        agree = (want == got).float().mean()
        assert agree >= 0.99, f'{name}: {agree:.4f}'


def test_precision_choice(monkeypatch):
    import mmpoolformer.deployment.runtimes as runtimes
    monkeypatch.setattr(runtimes, 'bf16_support',
                        lambda: Bf16Support(avx512_bf16=True, amx=True))
    assert choose_precision('openvino', 'auto')[0] == 'bf16'
    assert choose_precision('openvino', 'f32')[0] == 'f32'
    assert choose_precision('onnxruntime', 'auto')[0] == 'f32'
    with pytest.raises(ValueError, match='--backend openvino for bf16'):
        choose_precision('onnxruntime', 'bf16')
    with pytest.raises(ValueError, match="--backend 'tensorrt'"):
        choose_precision('tensorrt')
    monkeypatch.setattr(runtimes, 'bf16_support',
                        lambda: Bf16Support(avx512_bf16=False, amx=False))
    assert choose_precision('openvino', 'auto') == (
        'f32', 'auto: this CPU has no native bf16 unit')
    import mmpoolformer.precision.capability as capability
    monkeypatch.setattr(capability, 'bf16_support',
                        lambda: Bf16Support(avx512_bf16=False, amx=False))
    with pytest.raises(Bf16UnavailableError, match='--precision bf16'):
        choose_precision('openvino', 'bf16')


def logged_metrics(output: str) -> Dict[str, float]:
    """The metrics of the Runner's last ``Iter(test)`` line."""
    line = [line for line in output.splitlines() if 'Iter(test)' in line][-1]
    return {key: float(value) for key, value in
            re.findall(r'(\S+/\S+|aAcc|mIoU|mAcc): (-?[\d.]+)', line)}


def label_maps(folder) -> Dict[str, np.ndarray]:
    """The label PNGs ``--out DIR`` wrote, by file name."""
    return {png.name: np.array(Image.open(png))
            for png in sorted(folder.iterdir())}


def test_deployed_segmentor_scores_as_tools_test(tiny, tmp_path):
    """mIoU, mAcc and aAcc of the graph, in ONNX Runtime and in OpenVINO
    f32, equal PyTorch's (the plain operations the graph holds) through
    mmseg's IoUMetric; ``--out DIR`` writes the same label maps and
    ``--show-dir`` draws each image."""
    config, checkpoint, graph = tiny['fpn_data_classes']
    eager = run_tool('test.py', config, checkpoint, '--work-dir',
                     str(tmp_path / 'eager'), '--out',
                     str(tmp_path / 'eager_maps'), '--cfg-options',
                     'model.backbone.fast_path=False')
    want = logged_metrics(eager.stdout + eager.stderr)
    assert set(want) == {'aAcc', 'mIoU', 'mAcc'} and want['mIoU'] > 0
    want_maps = label_maps(tmp_path / 'eager_maps')
    assert len(want_maps) == 4
    for backend, name in (('onnxruntime', 'ONNX Runtime'),
                          ('openvino', 'OpenVINO')):
        maps, drawn = tmp_path / f'{backend}_maps', tmp_path / 'drawn'
        deployed = run_tool('deployment/test.py', config, graph,
                            '--backend', backend, '--precision', 'f32',
                            '--work-dir', str(tmp_path / backend),
                            '--out', str(maps), '--show-dir', str(drawn))
        output = deployed.stdout + deployed.stderr
        assert f'in {name} ' in output
        assert logged_metrics(output) == want, backend
        got_maps = label_maps(maps)
        assert list(got_maps) == list(want_maps)
        for file_name, label_map in want_maps.items():
            assert np.array_equal(got_maps[file_name], label_map), file_name
    assert len(glob.glob(str(drawn / 'vis_data' / 'vis_image' / '*.png'))
               ) == 4


def test_deployed_detector_dumps_what_tools_test_dumps(tiny, tmp_path):
    """The COCO metrics and the predictions ``--out FILE.pkl`` dumps (mmdet's
    DumpDetResults) equal PyTorch's, in ONNX Runtime; ``--show-dir`` draws
    each image."""
    config, checkpoint, graph = tiny['retinanet']
    runs, drawn = {}, tmp_path / 'drawn'
    for how, tool, model, flags in (
            ('eager', 'test.py', checkpoint,
             ['--cfg-options', 'model.backbone.fast_path=False']),
            ('deployed', 'deployment/test.py', graph,
             ['--show-dir', str(drawn)])):
        dump = tmp_path / f'{how}.pkl'
        result = run_tool(tool, config, model, '--work-dir',
                          str(tmp_path / how), '--out', str(dump), *flags)
        with open(dump, 'rb') as f:
            runs[how] = (logged_metrics(result.stdout + result.stderr),
                         pickle.load(f))
    (want_metrics, want), (got_metrics, got) = runs['eager'], runs['deployed']
    assert 'coco/bbox_mAP' in want_metrics and got_metrics == want_metrics
    assert len(got) == len(want) == 4
    for expected, actual in zip(want, got):
        assert expected['img_id'] == actual['img_id']
        e, a = expected['pred_instances'], actual['pred_instances']
        assert len(e['scores']) > 0
        torch.testing.assert_close(a['bboxes'], e['bboxes'], rtol=0,
                                   atol=1e-2)
        torch.testing.assert_close(a['scores'], e['scores'], rtol=0,
                                   atol=1e-4)
        assert torch.equal(a['labels'], e['labels'])
    assert len(glob.glob(str(drawn / '*.jpg'))) == 4


def test_tools_refuse_a_precision_the_backend_lacks(tiny, capsys):
    config, _, graph = tiny['fpn']
    for tool, args in (('deployment/onnx_inference.py', [tiny['chelsea']]),
                       ('deployment/test.py', [])):
        with pytest.raises(SystemExit) as exit_:
            load_tool(tool).main([config, graph, *args, '--precision',
                                  'bf16'])
        assert exit_.value.code == 2
        assert '--backend openvino for bf16' in capsys.readouterr().err

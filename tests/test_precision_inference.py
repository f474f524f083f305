"""bf16 inference on the CPU (mmpoolformer/precision): tools/test.py
--bf16 on the tiny datasets gives fp32's metrics, a CPU without native bf16
gets a clear error, and the prepared S12 models see a real photo as fp32
does: the same boxes above the threshold, the same labels on the pixels."""
import copy
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.registry import MODELS, init_default_scope
from PIL import Image
from skimage import data

from mmpoolformer.libraries import load_config
from mmpoolformer.mim_files import REPO
from mmpoolformer.models.backbones import onednn_kernels
from mmpoolformer.precision import (Bf16UnavailableError, bf16_support,
                                    capability, prepare_bf16_inference)
from mmpoolformer.precision.agreement import box_agreement, label_agreement
from mmpoolformer.testing import load_tool, perturb_affines
from tests.tiny_data import write_tiny_coco
from tests.tool_support import DETECTION, run_tool, write_config

needs_bf16 = pytest.mark.skipif(not bf16_support().native,
                                reason='this CPU has no native bf16')
test_tool = load_tool('test.py')
image_demo = load_tool('image_demo.py')


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


def metrics(work_dir: str) -> dict:
    [path] = glob.glob(osp.join(work_dir, '*', '*.json'))
    return {k: v for k, v in read_json(path).items()
            if k not in ('data_time', 'time')}


@needs_bf16
@pytest.mark.parametrize('task', ['detector', 'segmentor'])
def test_tools_test_bf16_gives_the_fp32_metrics(task, request, tmp_path):
    run = request.getfixturevalue(f'tiny_{task}_run')
    results = {}
    for flags in ([], ['--bf16']):
        work_dir = str(tmp_path / (flags[0][2:] if flags else 'fp32'))
        out = run_tool('test.py', run.config, run.checkpoint, '--work-dir',
                       work_dir, *flags)
        results[bool(flags)] = metrics(work_dir)
        assert ('bf16 inference: backbone: bf16 weights' in out.stdout +
                out.stderr) == bool(flags)
    fp32, bf16 = results[False], results[True]
    assert fp32.keys() == bf16.keys() and fp32
    for key, value in fp32.items():
        assert bf16[key] == pytest.approx(value, abs=0.02 * max(
            1, abs(value))), key


def test_a_cpu_without_bf16_gets_a_clear_error(monkeypatch,
                                               tiny_segmentor_run):
    monkeypatch.setattr(capability, 'bf16_support',
                        lambda: capability.Bf16Support(False, False))
    run = tiny_segmentor_run
    args = test_tool.parse_args([run.config, run.checkpoint, '--bf16'])
    with pytest.raises(Bf16UnavailableError,
                       match='--bf16: this CPU has neither AMX nor AVX-512 '
                       'BF16.*Run without --bf16'):
        test_tool.build_test_config(args)
    with pytest.raises(Bf16UnavailableError, match='--bf16'):
        image_demo.parse_args(['a.jpg', run.config, run.checkpoint,
                               '--bf16'])
    with pytest.raises(Bf16UnavailableError, match='test_cfg.fp16'):
        prepare_bf16_inference(torch.nn.Conv2d(1, 1, 1), 'test_cfg.fp16')


def test_bf16_flag_sets_the_test_loop_and_hook(tiny_detector_run):
    run = tiny_detector_run
    if not bf16_support().native:
        pytest.skip('this CPU has no native bf16')
    cfg = test_tool.build_test_config(
        test_tool.parse_args([run.config, run.checkpoint, '--bf16']))
    assert cfg.test_cfg.type == 'TestLoop' and cfg.test_cfg.fp16 is True
    assert [h for h in cfg.custom_hooks
            if h['type'] == 'Bf16InferenceHook'] == [
                dict(type='Bf16InferenceHook')]
    plain = test_tool.build_test_config(
        test_tool.parse_args([run.config, run.checkpoint]))
    assert not plain.test_cfg.get('fp16', False)


def test_fp16_loop_without_the_hook_gets_the_fix(tiny_detector_run):
    """mmengine's fp16=True alone fails in mmcv's NMS on the CPU; the
    CheckedRunner names the key and the hook instead."""
    run = tiny_detector_run
    result = run_tool('test.py', run.config, run.checkpoint,
                      '--cfg-options', 'test_cfg.fp16=True', check=False)
    assert result.returncode != 0
    assert ("test_cfg: fp16=True runs RetinaNet under bf16 autocast on the "
            'CPU') in result.stderr
    assert "custom_hooks=[dict(type='Bf16InferenceHook')]" in result.stderr


def build(config: str, scale, seed: int = 0):
    """The S12 model of ``config`` (random, affines around 1) and the
    pipeline that loads a photo at ``scale``."""
    cfg = load_config(osp.join(REPO, 'configs', config))
    cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.default_scope)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model).eval()
    perturb_affines(model, seed)
    pack = 'PackDetInputs' if cfg.default_scope == 'mmdet' \
        else 'PackSegInputs'
    pipeline = Compose([
        dict(type=f'{cfg.default_scope}.LoadImageFromNDArray'),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type=pack)])
    return model, pipeline


def batch(model, pipeline, photo) -> dict:
    """``photo`` through the pipeline and the model's data preprocessor."""
    sample = pipeline(dict(img=photo))
    with torch.no_grad():
        return model.data_preprocessor(
            dict(inputs=[sample['inputs']],
                 data_samples=[sample['data_samples']]), False)


def predict(model, data: dict):
    with torch.no_grad():
        return model.predict(data['inputs'], data['data_samples'])[0]


def calibrate_detection_scores(model: torch.nn.Module, inputs: torch.Tensor,
                               boxes: int = 10) -> None:
    """Shift a random-weight RetinaNet-like head's classifier bias so that
    on ``inputs`` (a preprocessed batch) about ``boxes`` anchors score
    above 0.5, the rest below, as a trained detector's few confident
    boxes: random weights give saturated scores (logits of 10 and more
    on a photo), whose ties and rounding say nothing about precision.
    Box deltas are scaled to a trained head's (well below 1)."""
    head = model.bbox_head
    with torch.no_grad():
        cls_scores, bbox_preds = head(model.extract_feat(inputs))
        logits = torch.cat([c.flatten() for c in cls_scores])
        head.retina_cls.bias -= logits.topk(boxes).values[-1] - 0.01
        spread = max(float(b.std()) for b in bbox_preds)
        head.retina_reg.weight /= spread / .2
        head.retina_reg.bias /= spread / .2


PHOTOS = [data.chelsea()[..., ::-1].copy(),  # BGR, as mmcv loads
          data.astronaut()[..., ::-1].copy()]


@needs_bf16
def test_prepared_detector_shows_the_fp32_boxes():
    """Random weights give saturated scores; the classifier's bias is set
    so that about ten anchors of each photo score above 0.5, as a trained
    detector's few confident boxes (calibrate_detection_scores)."""
    random_model, pipeline = build('detection/retinanet_poolformer_s12.py',
                                   (608, 384))
    for photo in PHOTOS:
        model = copy.deepcopy(random_model)
        data = batch(model, pipeline, photo)
        calibrate_detection_scores(model, data['inputs'])
        prepared = copy.deepcopy(model)
        changes = prepare_bf16_inference(prepared)
        assert changes[-1].startswith('bbox_head: bf16 weights')
        expected = predict(model, data).pred_instances
        got = predict(prepared, data).pred_instances
        assert got.bboxes.dtype == got.scores.dtype == torch.float32
        matched, shown = box_agreement(expected, got, 0.5)
        assert shown >= 3 and matched == shown


@needs_bf16
def test_prepared_segmentor_labels_the_pixels_as_fp32():
    """Random weights with layer scales around 1 amplify rounding far more
    than trained ones: 98.4-98.7% of the pixels agree (plain autocast:
    97.9-98.4%), nearly all the disagreement from the backbone."""
    model, pipeline = build('segmentation/fpn_poolformer_s12.py',
                            (2048, 448))
    prepared = copy.deepcopy(model)
    prepare_bf16_inference(prepared)
    for photo in PHOTOS:
        data = batch(model, pipeline, photo)
        expected, got = predict(model, data), predict(prepared, data)
        assert got.seg_logits.data.dtype == torch.float32
        assert label_agreement(expected.pred_sem_seg.data,
                               got.pred_sem_seg.data) >= 0.98


@needs_bf16
def test_prepared_backbone_runs_onednn_bf16_linears():
    """The fast path's fused oneDNN linears take the bf16 maps of a
    prepared model (each block's MLP in one kernel per linear)."""
    if onednn_kernels.linear_pointwise() is None:
        pytest.skip('this torch has no mkldnn._linear_pointwise')
    model, _ = build('segmentation/fpn_poolformer_s12.py', (512, 512))
    prepare_bf16_inference(model)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad(), torch.profiler.profile() as prof:
        outs = model.backbone(x)
    names = {event.name for event in prof.events()}
    assert 'mkldnn::_linear_pointwise' in names
    assert all(out.dtype == torch.bfloat16 for out in outs)


VAL_IN_BF16 = """
train_cfg.update(val_interval={iters})
val_cfg = dict(type='ValLoop', fp16=True)
val_dataloader = test_dataloader
val_evaluator = test_evaluator
custom_hooks = [dict(type='Bf16InferenceHook')]
"""


@needs_bf16
def test_validation_in_bf16_while_training_keeps_fp32_weights(tmp_path):
    """Validating during training (at iteration 2 of 4) under the val
    loop's bf16 autocast: the heads' maps reach mmdet's NMS (fp32 only)
    in fp32, and the weights trained on after it, so the checkpoint,
    stay fp32."""
    root = write_tiny_coco(str(tmp_path / 'coco')) + '/'
    config = write_config(str(tmp_path / 'det.py'), DETECTION, root,
                          iters=4, interval=4,
                          extra=VAL_IN_BF16.format(iters=2))
    work_dir = str(tmp_path / 'work')
    run_tool('train.py', config, '--work-dir', work_dir)
    state = torch.load(osp.join(work_dir, 'iter_4.pth'),
                       weights_only=False)['state_dict']
    assert {value.dtype for value in state.values()
            if value.is_floating_point()} == {torch.float32}
    [scalars] = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json'))
    with open(scalars) as f:
        assert any('coco/bbox_mAP' in json.loads(line) for line in f)


@needs_bf16
@pytest.mark.parametrize('task', ['detector', 'segmentor'])
def test_image_demo_bf16_predicts_as_fp32(task, request, tmp_path):
    """tools/image_demo.py --bf16: the Inferencer's model prepared; the
    saved predictions those of fp32 (tiny models on a tiny image)."""
    run = request.getfixturevalue(f'tiny_{task}_run')
    image = sorted(glob.glob(osp.join(run.data_root, '**', '*.jpg'),
                             recursive=True))[0]
    outs = {}
    for flags in ([], ['--bf16']):
        out = outs[bool(flags)] = str(tmp_path / ('bf16' if flags else 'fp32'))
        image_demo.main([image, run.config, run.checkpoint, '--out-dir', out,
                         '--device', 'cpu', *flags])
    if task == 'segmentor':
        fp32, bf16 = (np.array(Image.open(osp.join(
            out, 'pred', '00000000_pred.png'))) for out in outs.values())
        assert (fp32 == bf16).mean() >= 0.99
        return
    name = osp.splitext(osp.basename(image))[0] + '.json'
    fp32, bf16 = (read_json(osp.join(out, 'preds', name))
                  for out in outs.values())
    np.testing.assert_allclose(bf16['scores'][:10], fp32['scores'][:10],
                               atol=0.02)

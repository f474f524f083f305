"""CPURoIAlign against mmcv's RoIAlign: outputs and gradients, and the
extractor that builds it."""
import pytest
import torch
from mmcv.ops import RoIAlign
from mmengine.registry import DefaultScope

from mmpoolformer.models.roi_heads import CPURoIAlign, gather_roi_align


def random_rois(count: int, height: int, width: int, scale: float,
                generator: torch.Generator) -> torch.Tensor:
    """RoIs in image pixels over a map of ``height x width`` at ``scale``,
    some reaching outside it, one of zero size, two batch images."""
    size = torch.tensor([width, height]) / scale
    corner = torch.rand(count, 2, generator=generator) * size * 1.1 \
        - 0.05 * size
    extent = torch.rand(count, 2, generator=generator) * size * 0.6 + 0.2
    batch = torch.randint(0, 2, (count, 1), generator=generator).float()
    rois = torch.cat([batch, corner, corner + extent], 1)
    rois[0, 3:] = rois[0, 1:3]  # zero size
    return rois


@pytest.mark.parametrize('height,width,scale', [(24, 32, 1 / 4),
                                                (7, 11, 1 / 16)])
@pytest.mark.parametrize('aligned,sampling_ratio', [(True, 0), (False, 0),
                                                    (True, 2)])
def test_outputs_and_gradients_equal_mmcv(height, width, scale, aligned,
                                          sampling_ratio):
    generator = torch.Generator().manual_seed(height)
    feats = torch.randn(2, 16, height, width, generator=generator,
                        requires_grad=True)
    rois = random_rois(40, height, width, scale, generator)
    expected = RoIAlign(7, scale, sampling_ratio, aligned=aligned)(feats,
                                                                   rois)
    got = gather_roi_align(feats, rois, (7, 7), scale, sampling_ratio,
                           aligned)
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-6)
    assert got.abs().sum() > 0
    if aligned and sampling_ratio == 0:  # a zero-size RoI has no samples
        assert not got[0].any()

    upstream = torch.randn(expected.shape, generator=generator)
    grad_expected, = torch.autograd.grad(expected, feats, upstream)
    grad_got, = torch.autograd.grad(got, feats, upstream)
    torch.testing.assert_close(grad_got, grad_expected, rtol=0, atol=1e-5)


def test_module_delegates_what_it_does_not_compute(monkeypatch):
    """Max pooling and fast_path=False run mmcv's kernel; average pooling
    on the CPU runs the gather."""
    calls = []
    monkeypatch.setattr(
        'mmpoolformer.models.roi_heads.cpu_roi_align.gather_roi_align',
        lambda *args: calls.append(args) or torch.zeros(0))
    generator = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 4, 12, 12, generator=generator)
    rois = random_rois(5, 12, 12, 1 / 8, generator)
    for layer in (CPURoIAlign(7, 1 / 8, pool_mode='max'),
                  CPURoIAlign(7, 1 / 8, fast_path=False)):
        assert layer(feats, rois).shape == (5, 4, 7, 7)
    assert not calls
    CPURoIAlign(7, 1 / 8)(feats, rois)
    assert len(calls) == 1


def test_no_rois_and_negative_sizes():
    feats = torch.randn(1, 4, 8, 8)
    assert gather_roi_align(feats, torch.zeros(0, 5), (7, 7), 1.0, 0,
                            True).shape == (0, 4, 7, 7)
    with pytest.raises(ValueError, match='negative size'):
        gather_roi_align(feats, torch.tensor([[0., 5, 5, 2, 6]]), (7, 7),
                         1.0, 0, True)


def test_extractor_builds_cpu_roi_align_and_matches_mmdet():
    """mmdet's MODELS builds 'CPUSingleRoIExtractor' (the import
    registers it) with CPURoIAlign layers and mmdet's outputs."""
    from mmdet.registry import MODELS

    import mmpoolformer  # noqa: F401
    config = dict(roi_layer=dict(type='RoIAlign', output_size=7,
                                 sampling_ratio=0),
                  out_channels=8, featmap_strides=[4, 8, 16, 32])
    with DefaultScope.overwrite_default_scope('mmdet'):  # another test's
        ours = MODELS.build(dict(config, type='CPUSingleRoIExtractor'))
        theirs = MODELS.build(dict(config, type='SingleRoIExtractor'))
    assert type(theirs).__name__ == 'SingleRoIExtractor'
    assert all(type(layer) is CPURoIAlign for layer in ours.roi_layers)
    generator = torch.Generator().manual_seed(1)
    feats = tuple(torch.randn(2, 8, 64 // s, 96 // s, generator=generator)
                  for s in (4, 8, 16, 32))
    rois = random_rois(30, 64, 96, 1.0, generator)
    torch.testing.assert_close(ours(feats, rois), theirs(feats, rois),
                               rtol=0, atol=2e-6)

"""The released MetaFormer S12 models of sail-sg/poolformer's
``metaformer.py`` as archs of our backbone: their files load strictly and
compute the original's logits; as dense backbones they say which input
sizes they accept."""
import pytest
import torch
import torch.nn.functional as F

from mmpoolformer.checkpoints.weight_files import CheckpointError, convert
from mmpoolformer.checkpoints.weight_layouts import (detect_format,
                                                     released_hybrid, to_ours)
from mmpoolformer.libraries import load_config
from mmpoolformer.models import HYBRID_ARCHS, PoolFormer
from mmpoolformer.models.backbones.metaformer import PositionEmbedding
from mmpoolformer.testing import perturb_affines
from tests import reference_metaformer as ref
from tests.tool_support import REPO

RELEASE_URL = 'https://github.com/sail-sg/poolformer/releases/download/v1.0/'


def release_file(arch: str, path) -> dict:
    """A file as the original release stores it: the plain state_dict of
    the original model, with every tensor drawn so a mix-up shows."""
    torch.manual_seed(0)
    original = ref.metaformer(arch).eval()
    perturb_affines(original)
    with torch.no_grad():
        for name, param in original.named_parameters():
            if name.endswith('pos_embed'):
                param.normal_(0, .5)
    torch.save(original.state_dict(), str(path))
    return original


def test_arch_names_are_the_originals():
    assert sorted(HYBRID_ARCHS) == sorted(ref.ARCHS)


@pytest.mark.parametrize('arch', sorted(HYBRID_ARCHS))
def test_release_file_loads_strictly_through_init_cfg(arch, tmp_path):
    """Every tensor of the release file lands, in the original's order,
    and the model computes the original's logits."""
    path = tmp_path / f'{arch}.pth.tar'
    original = release_file(arch, path)
    ours = PoolFormer(arch, fork_feat=False, fast_path=False,
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    ours.init_weights()
    theirs = to_ours(original.state_dict())
    assert list(ours.state_dict()) == list(theirs)  # same keys, same order
    for key, value in ours.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(ours.eval()(x), original(x))


@pytest.mark.parametrize('arch,stage', [('metaformer_pppa_s12_224', 3),
                                        ('metaformer_ppaa_s12_224', 2)])
def test_position_embedding_belongs_to_its_stage(arch, stage):
    model = PoolFormer(arch)
    for i, module in enumerate(model.stages):
        assert isinstance(module.pos_embed, PositionEmbedding) == \
            (i == stage)


def test_position_embedding_is_resized_bicubically_off_its_size():
    torch.manual_seed(0)
    embed = PositionEmbedding(8, (14, 14))
    with torch.no_grad():
        embed.pos_embed.normal_()
    x = torch.randn(2, 8, 14, 14)
    assert torch.equal(embed(x), x + embed.pos_embed)  # unchanged
    x = torch.randn(2, 8, 10, 23)
    resized = F.interpolate(embed.pos_embed, size=(10, 23), mode='bicubic',
                            align_corners=False)
    torch.testing.assert_close(embed(x), x + resized, rtol=0, atol=0)


@pytest.mark.parametrize('arch', ['metaformer_pppa_s12_224',
                                  'metaformer_ppaa_s12_224'])
def test_position_embedded_models_run_dense_at_any_size(arch, tmp_path):
    path = tmp_path / 'release.pth.tar'
    release_file(arch, path)
    model = PoolFormer(arch, fork_last3=True, init_cfg=dict(
        type='Pretrained', checkpoint=str(path))).eval()
    model.init_weights()
    for size in [(96, 160), (75, 101)]:
        with torch.no_grad():
            outs = model(torch.randn(1, 3, *size))
        assert [o.shape[1] for o in outs] == model.out_channels
        assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('arch,stage,need', [
    ('metaformer_pppf_s12_224', 3, '224x224'),
    ('metaformer_ppff_s12_224', 2, '224x224')])
def test_spatial_fc_models_say_which_input_size_they_need(arch, stage, need):
    model = PoolFormer(arch).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 224, 224))
    assert [o.shape[-1] for o in outs] == [56, 28, 14, 7]
    with pytest.raises(ValueError, match=rf'needs {need} inputs.*stage '
                       rf'{stage}.*320x288 input'):
        model(torch.randn(1, 3, 320, 288))


def test_released_spatial_fc_has_no_bias_but_the_ablation_keeps_it():
    released = PoolFormer('metaformer_ppff_s12_224')
    assert released.stages[2].blocks[0].token_mixer.fc.bias is None
    ablation = PoolFormer('s12', token_mixers=[
        'pooling', 'pooling', dict(type='spatial_mlp', token_size=(14, 14)),
        'pooling'])
    assert ablation.stages[2].blocks[0].token_mixer.fc.bias is not None


def test_release_files_are_recognised_and_kept_in_their_layout():
    for arch in HYBRID_ARCHS:
        state_dict = ref.metaformer(arch).state_dict()
        assert detect_format(state_dict) == 'original'
        expected = None if arch == 'metaformer_id_s12' else arch
        assert released_hybrid(to_ours(state_dict)) == expected
        assert convert(state_dict, 'original').keys() == state_dict.keys()
    with pytest.raises(ValueError, match='no timm layout'):
        convert(ref.metaformer('metaformer_ppaa_s12_224').state_dict(),
                'timm')


def test_release_file_in_the_wrong_arch_names_the_right_one(tmp_path):
    path = tmp_path / 'metaformer_ppaa_s12_224.pth.tar'
    release_file('metaformer_ppaa_s12_224', path)
    model = PoolFormer('s12', token_mixers=[
        'pooling', 'pooling', 'attention', 'attention'], init_cfg=dict(
            type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError,
                       match="arch='metaformer_ppaa_s12_224'"):
        model.init_weights()


@pytest.mark.parametrize('config', [
    'detection/retinanet_poolformer_hybrid_s12.py',
    'segmentation/fpn_poolformer_hybrid_s12.py'])
def test_hybrid_configs_start_from_the_released_ppaa_weights(config):
    import os.path as osp

    backbone = load_config(osp.join(REPO, 'configs', config)).model.\
        backbone
    assert backbone.arch == 'metaformer_ppaa_s12_224'
    assert backbone.get('token_mixers') is None
    assert backbone.init_cfg.checkpoint == \
        RELEASE_URL + 'metaformer_ppaa_s12_224.pth.tar'


@pytest.mark.parametrize('config', [
    'detection/mask_rcnn_poolformer_s12.py',
    'detection/mask_rcnn_poolformer_s24.py',
    'detection/mask_rcnn_poolformer_s36.py',
    'segmentation/fpn_poolformer_s12.py',
    'segmentation/fpn_poolformer_m48.py',
    'segmentation/fpn_poolformer_hybrid_s12.py'])
def test_level0_configs_switch_fork_last3_off_explicitly(config,
                                                         monkeypatch):
    import os.path as osp

    backbone = load_config(osp.join(REPO, 'configs', config)).model.\
        backbone
    assert backbone.fork_last3 is False
    monkeypatch.setenv('FORK_LAST3', '1')  # as the original README exports
    backbone.pop('type')
    backbone.update(init_cfg=None)
    assert not isinstance(PoolFormer(**backbone).norm0, torch.nn.Identity)

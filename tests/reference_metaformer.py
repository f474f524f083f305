"""A transcription of the original sail-sg/poolformer ``models/metaformer.py``
(the MetaFormer S12 models with hybrid stages, May 2022), kept as the
reference for the released-weights tests.

timm's helpers and the PoolFormer parts that ``metaformer.py`` imports come
from ``reference_poolformer``; ``LayerNormChannel`` is transcribed from the
original ``poolformer.py``. The operations and module names are the
original's, so its state_dict has the release files' keys.
"""
from functools import partial, reduce
from typing import Sequence

import torch
import torch.nn as nn

from tests.reference_poolformer import (DropPath, GroupNorm, Mlp, PatchEmbed,
                                        trunc_normal_)


class LayerNormChannel(nn.Module):
    def __init__(self, num_channels, eps=1e-05):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        x = self.weight.unsqueeze(-1).unsqueeze(-1) * x \
            + self.bias.unsqueeze(-1).unsqueeze(-1)
        return x


class Pooling(nn.Module):
    def __init__(self, pool_size=3, **kwargs):
        super().__init__()
        self.pool = nn.AvgPool2d(
            pool_size, stride=1, padding=pool_size // 2,
            count_include_pad=False)

    def forward(self, x):
        return self.pool(x) - x


class AddPositionEmb(nn.Module):
    def __init__(self, dim=384, spatial_shape=[14, 14]):
        super().__init__()
        if isinstance(spatial_shape, int):
            spatial_shape = [spatial_shape]
        assert isinstance(spatial_shape, Sequence)
        if len(spatial_shape) == 1:
            embed_shape = list(spatial_shape) + [dim]
        else:
            embed_shape = [dim] + list(spatial_shape)
        self.pos_embed = nn.Parameter(torch.zeros(1, *embed_shape))

    def forward(self, x):
        return x + self.pos_embed


class Attention(nn.Module):
    def __init__(self, dim, head_dim=32, qkv_bias=False, attn_drop=0.,
                 proj_drop=0.):
        super().__init__()
        assert dim % head_dim == 0
        self.head_dim = head_dim
        self.num_heads = dim // head_dim
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        shape = x.shape
        if len(shape) == 4:
            B, C, H, W = shape
            N = H * W
            x = torch.flatten(x, start_dim=2).transpose(-2, -1)
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads,
                                  self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        attn = self.attn_drop(attn)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        x = self.proj(x)
        x = self.proj_drop(x)
        if len(shape) == 4:
            x = x.transpose(-2, -1).reshape(B, C, H, W)
        return x


class SpatialFc(nn.Module):
    def __init__(self, spatial_shape=[14, 14], **kwargs):
        super().__init__()
        if isinstance(spatial_shape, int):
            spatial_shape = [spatial_shape]
        assert isinstance(spatial_shape, Sequence)
        N = reduce(lambda x, y: x * y, spatial_shape)
        self.fc = nn.Linear(N, N, bias=False)

    def forward(self, x):
        shape = x.shape
        x = torch.flatten(x, start_dim=2)
        x = self.fc(x)
        x = x.reshape(*shape)
        return x


class MetaFormerBlock(nn.Module):
    def __init__(self, dim, token_mixer=nn.Identity, mlp_ratio=4.,
                 act_layer=nn.GELU, norm_layer=LayerNormChannel,
                 drop=0., drop_path=0.,
                 use_layer_scale=True, layer_scale_init_value=1e-5):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.token_mixer = token_mixer(dim=dim)
        self.norm2 = norm_layer(dim)
        mlp_hidden_dim = int(dim * mlp_ratio)
        self.mlp = Mlp(in_features=dim, hidden_features=mlp_hidden_dim,
                       act_layer=act_layer, drop=drop)
        self.drop_path1 = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()
        self.use_layer_scale = use_layer_scale
        if use_layer_scale:
            self.layer_scale_1 = nn.Parameter(
                layer_scale_init_value * torch.ones((dim)),
                requires_grad=True)
            self.layer_scale_2 = nn.Parameter(
                layer_scale_init_value * torch.ones((dim)),
                requires_grad=True)
        self.drop_path2 = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()

    def forward(self, x):
        if self.use_layer_scale:
            x = x + self.drop_path(
                self.layer_scale_1.unsqueeze(-1).unsqueeze(-1)
                * self.token_mixer(self.norm1(x)))
            x = x + self.drop_path(
                self.layer_scale_2.unsqueeze(-1).unsqueeze(-1)
                * self.mlp(self.norm2(x)))
        else:
            x = x + self.drop_path(self.token_mixer(self.norm1(x)))
            x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


def basic_blocks(dim, index, layers, token_mixer=nn.Identity,
                 mlp_ratio=4., act_layer=nn.GELU,
                 norm_layer=LayerNormChannel, drop_rate=.0,
                 drop_path_rate=0., use_layer_scale=True,
                 layer_scale_init_value=1e-5):
    blocks = []
    for block_idx in range(layers[index]):
        block_dpr = drop_path_rate * (
            block_idx + sum(layers[:index])) / (sum(layers) - 1)
        blocks.append(MetaFormerBlock(
            dim, token_mixer=token_mixer, mlp_ratio=mlp_ratio,
            act_layer=act_layer, norm_layer=norm_layer,
            drop=drop_rate, drop_path=block_dpr,
            use_layer_scale=use_layer_scale,
            layer_scale_init_value=layer_scale_init_value))
    return nn.Sequential(*blocks)


class MetaFormer(nn.Module):
    def __init__(self, layers, embed_dims=None, token_mixers=None,
                 mlp_ratios=None, norm_layer=LayerNormChannel,
                 act_layer=nn.GELU, num_classes=1000,
                 in_patch_size=7, in_stride=4, in_pad=2,
                 downsamples=None, down_patch_size=3, down_stride=2,
                 down_pad=1, add_pos_embs=None, drop_rate=0.,
                 drop_path_rate=0., use_layer_scale=True,
                 layer_scale_init_value=1e-5, **kwargs):
        super().__init__()
        self.num_classes = num_classes
        self.patch_embed = PatchEmbed(
            patch_size=in_patch_size, stride=in_stride, padding=in_pad,
            in_chans=3, embed_dim=embed_dims[0])
        if add_pos_embs is None:
            add_pos_embs = [None] * len(layers)
        if token_mixers is None:
            token_mixers = [nn.Identity] * len(layers)
        network = []
        for i in range(len(layers)):
            if add_pos_embs[i] is not None:
                network.append(add_pos_embs[i](embed_dims[i]))
            stage = basic_blocks(embed_dims[i], i, layers,
                                 token_mixer=token_mixers[i],
                                 mlp_ratio=mlp_ratios[i],
                                 act_layer=act_layer, norm_layer=norm_layer,
                                 drop_rate=drop_rate,
                                 drop_path_rate=drop_path_rate,
                                 use_layer_scale=use_layer_scale,
                                 layer_scale_init_value=layer_scale_init_value)
            network.append(stage)
            if i >= len(layers) - 1:
                break
            if downsamples[i] or embed_dims[i] != embed_dims[i + 1]:
                network.append(PatchEmbed(
                    patch_size=down_patch_size, stride=down_stride,
                    padding=down_pad, in_chans=embed_dims[i],
                    embed_dim=embed_dims[i + 1]))
        self.network = nn.ModuleList(network)
        self.norm = norm_layer(embed_dims[-1])
        self.head = nn.Linear(embed_dims[-1], num_classes) \
            if num_classes > 0 else nn.Identity()
        self.apply(self.cls_init_weights)

    def cls_init_weights(self, m):
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight, std=.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.constant_(m.bias, 0)

    def forward_embeddings(self, x):
        return self.patch_embed(x)

    def forward_tokens(self, x):
        for idx, block in enumerate(self.network):
            x = block(x)
        return x

    def forward(self, x):
        x = self.forward_embeddings(x)
        x = self.forward_tokens(x)
        x = self.norm(x)
        return self.head(x.mean([-2, -1]))


_S12 = dict(layers=[2, 2, 6, 2], embed_dims=[64, 128, 320, 512],
            mlp_ratios=[4, 4, 4, 4], downsamples=[True, True, True, True])
_FC7 = partial(SpatialFc, spatial_shape=[7, 7])
_FC14 = partial(SpatialFc, spatial_shape=[14, 14])
ARCHS = {
    'metaformer_id_s12': dict(
        token_mixers=[nn.Identity] * 4, norm_layer=GroupNorm),
    'metaformer_pppa_s12_224': dict(
        token_mixers=[Pooling, Pooling, Pooling, Attention],
        add_pos_embs=[None, None, None,
                      partial(AddPositionEmb, spatial_shape=[7, 7])]),
    'metaformer_ppaa_s12_224': dict(
        token_mixers=[Pooling, Pooling, Attention, Attention],
        add_pos_embs=[None, None,
                      partial(AddPositionEmb, spatial_shape=[14, 14]),
                      None]),
    'metaformer_pppf_s12_224': dict(
        token_mixers=[Pooling, Pooling, Pooling, _FC7],
        norm_layer=GroupNorm),
    'metaformer_ppff_s12_224': dict(
        token_mixers=[Pooling, Pooling, _FC14, _FC7], norm_layer=GroupNorm),
}


def metaformer(arch, **kwargs):
    """The original ``metaformer_*`` factory of that name (without
    downloading)."""
    return MetaFormer(**_S12, **ARCHS[arch], **kwargs)

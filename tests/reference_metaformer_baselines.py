"""A transcription of sail-sg/metaformer's ``metaformer_baselines.py``
(PoolFormerV2, ConvFormer, CAFormer), kept as the reference for the parity
tests of :class:`mmpoolformer.models.MetaFormer`.

As the original, it runs channels-last (``(B, H, W, C)``) with linear layers
over channels and an explicit softmax attention. timm's helpers are the
local ones of ``reference_poolformer`` (DropPath, trunc_normal_); the
``@register_model`` builders are one table, :data:`ARCHS`.
"""
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.reference_poolformer import DropPath, trunc_normal_


class Downsampling(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, pre_norm=None, post_norm=None,
                 pre_permute=False):
        super().__init__()
        self.pre_norm = pre_norm(in_channels) if pre_norm else nn.Identity()
        self.pre_permute = pre_permute
        self.conv = nn.Conv2d(in_channels, out_channels,
                              kernel_size=kernel_size, stride=stride,
                              padding=padding)
        self.post_norm = post_norm(out_channels) if post_norm \
            else nn.Identity()

    def forward(self, x):
        x = self.pre_norm(x)
        if self.pre_permute:
            x = x.permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)
        x = self.conv(x)
        x = x.permute(0, 2, 3, 1)
        return self.post_norm(x)


class Scale(nn.Module):
    def __init__(self, dim, init_value=1.0, trainable=True):
        super().__init__()
        self.scale = nn.Parameter(init_value * torch.ones(dim),
                                  requires_grad=trainable)

    def forward(self, x):
        return x * self.scale


class SquaredReLU(nn.Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.relu = nn.ReLU(inplace=inplace)

    def forward(self, x):
        return torch.square(self.relu(x))


class StarReLU(nn.Module):
    def __init__(self, scale_value=1.0, bias_value=0.0, inplace=False):
        super().__init__()
        self.relu = nn.ReLU(inplace=inplace)
        self.scale = nn.Parameter(scale_value * torch.ones(1))
        self.bias = nn.Parameter(bias_value * torch.ones(1))

    def forward(self, x):
        return self.scale * self.relu(x) ** 2 + self.bias


class Attention(nn.Module):
    def __init__(self, dim, head_dim=32, num_heads=None, qkv_bias=False,
                 attn_drop=0., proj_drop=0., proj_bias=False, **kwargs):
        super().__init__()
        self.head_dim = head_dim
        self.scale = head_dim ** -0.5
        self.num_heads = num_heads if num_heads else dim // head_dim
        if self.num_heads == 0:
            self.num_heads = 1
        self.attention_dim = self.num_heads * self.head_dim
        self.qkv = nn.Linear(dim, self.attention_dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(self.attention_dim, dim, bias=proj_bias)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, H, W, C = x.shape
        N = H * W
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads,
                                  self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, H, W, self.attention_dim)
        return self.proj_drop(self.proj(x))


class LayerNormGeneral(nn.Module):
    def __init__(self, affine_shape=None, normalized_dim=(-1, ), scale=True,
                 bias=True, eps=1e-5):
        super().__init__()
        self.normalized_dim = normalized_dim
        self.use_scale = scale
        self.use_bias = bias
        self.weight = nn.Parameter(torch.ones(affine_shape)) if scale \
            else None
        self.bias = nn.Parameter(torch.zeros(affine_shape)) if bias else None
        self.eps = eps

    def forward(self, x):
        c = x - x.mean(self.normalized_dim, keepdim=True)
        s = c.pow(2).mean(self.normalized_dim, keepdim=True)
        x = c / torch.sqrt(s + self.eps)
        if self.use_scale:
            x = x * self.weight
        if self.use_bias:
            x = x + self.bias
        return x


class LayerNormWithoutBias(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5, **kwargs):
        super().__init__()
        self.eps = eps
        self.bias = None
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape, )
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.normalized_shape = normalized_shape

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, weight=self.weight,
                            bias=self.bias, eps=self.eps)


class SepConv(nn.Module):
    def __init__(self, dim, expansion_ratio=2, act1_layer=StarReLU,
                 act2_layer=nn.Identity, bias=False, kernel_size=7,
                 padding=3, **kwargs):
        super().__init__()
        med_channels = int(expansion_ratio * dim)
        self.pwconv1 = nn.Linear(dim, med_channels, bias=bias)
        self.act1 = act1_layer()
        self.dwconv = nn.Conv2d(med_channels, med_channels,
                                kernel_size=kernel_size, padding=padding,
                                groups=med_channels, bias=bias)
        self.act2 = act2_layer()
        self.pwconv2 = nn.Linear(med_channels, dim, bias=bias)

    def forward(self, x):
        x = self.act1(self.pwconv1(x))
        x = self.dwconv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return self.pwconv2(self.act2(x))


class Pooling(nn.Module):
    def __init__(self, pool_size=3, **kwargs):
        super().__init__()
        self.pool = nn.AvgPool2d(pool_size, stride=1,
                                 padding=pool_size // 2,
                                 count_include_pad=False)

    def forward(self, x):
        y = self.pool(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return y - x


class Mlp(nn.Module):
    def __init__(self, dim, mlp_ratio=4, out_features=None,
                 act_layer=StarReLU, drop=0., bias=False, **kwargs):
        super().__init__()
        out_features = out_features or dim
        hidden_features = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden_features, bias=bias)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features, bias=bias)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        x = self.drop1(self.act(self.fc1(x)))
        return self.drop2(self.fc2(x))


class MlpHead(nn.Module):
    def __init__(self, dim, num_classes=1000, mlp_ratio=4,
                 act_layer=SquaredReLU, norm_layer=nn.LayerNorm,
                 head_dropout=0., bias=True):
        super().__init__()
        hidden_features = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden_features, bias=bias)
        self.act = act_layer()
        self.norm = norm_layer(hidden_features)
        self.fc2 = nn.Linear(hidden_features, num_classes, bias=bias)
        self.head_dropout = nn.Dropout(head_dropout)

    def forward(self, x):
        x = self.norm(self.act(self.fc1(x)))
        return self.fc2(self.head_dropout(x))


class MetaFormerBlock(nn.Module):
    def __init__(self, dim, token_mixer=nn.Identity, mlp=Mlp,
                 norm_layer=nn.LayerNorm, drop=0., drop_path=0.,
                 layer_scale_init_value=None, res_scale_init_value=None):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.token_mixer = token_mixer(dim=dim, drop=drop)
        self.drop_path1 = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()
        self.layer_scale1 = Scale(dim=dim, init_value=layer_scale_init_value) \
            if layer_scale_init_value else nn.Identity()
        self.res_scale1 = Scale(dim=dim, init_value=res_scale_init_value) \
            if res_scale_init_value else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = mlp(dim=dim, drop=drop)
        self.drop_path2 = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()
        self.layer_scale2 = Scale(dim=dim, init_value=layer_scale_init_value) \
            if layer_scale_init_value else nn.Identity()
        self.res_scale2 = Scale(dim=dim, init_value=res_scale_init_value) \
            if res_scale_init_value else nn.Identity()

    def forward(self, x):
        x = self.res_scale1(x) + self.layer_scale1(
            self.drop_path1(self.token_mixer(self.norm1(x))))
        x = self.res_scale2(x) + self.layer_scale2(
            self.drop_path2(self.mlp(self.norm2(x))))
        return x


DOWNSAMPLE_LAYERS_FOUR_STAGES = [partial(
    Downsampling, kernel_size=7, stride=4, padding=2,
    post_norm=partial(LayerNormGeneral, bias=False, eps=1e-6))] + [partial(
        Downsampling, kernel_size=3, stride=2, padding=1,
        pre_norm=partial(LayerNormGeneral, bias=False, eps=1e-6),
        pre_permute=True)] * 3


class MetaFormer(nn.Module):
    def __init__(self, in_chans=3, num_classes=1000, depths=[2, 2, 6, 2],
                 dims=[64, 128, 320, 512],
                 downsample_layers=DOWNSAMPLE_LAYERS_FOUR_STAGES,
                 token_mixers=nn.Identity, mlps=Mlp,
                 norm_layers=partial(LayerNormWithoutBias, eps=1e-6),
                 drop_path_rate=0., head_dropout=0.0,
                 layer_scale_init_values=None,
                 res_scale_init_values=[None, None, 1.0, 1.0],
                 output_norm=partial(nn.LayerNorm, eps=1e-6),
                 head_fn=nn.Linear, **kwargs):
        super().__init__()
        self.num_classes = num_classes
        num_stage = len(depths)
        self.num_stage = num_stage
        down_dims = [in_chans] + dims
        self.downsample_layers = nn.ModuleList([
            downsample_layers[i](down_dims[i], down_dims[i + 1])
            for i in range(num_stage)])
        if not isinstance(token_mixers, (list, tuple)):
            token_mixers = [token_mixers] * num_stage
        if not isinstance(mlps, (list, tuple)):
            mlps = [mlps] * num_stage
        if not isinstance(norm_layers, (list, tuple)):
            norm_layers = [norm_layers] * num_stage
        dp_rates = [x.item() for x in
                    torch.linspace(0, drop_path_rate, sum(depths))]
        if not isinstance(layer_scale_init_values, (list, tuple)):
            layer_scale_init_values = [layer_scale_init_values] * num_stage
        if not isinstance(res_scale_init_values, (list, tuple)):
            res_scale_init_values = [res_scale_init_values] * num_stage
        self.stages = nn.ModuleList()
        cur = 0
        for i in range(num_stage):
            self.stages.append(nn.Sequential(*[MetaFormerBlock(
                dim=dims[i], token_mixer=token_mixers[i], mlp=mlps[i],
                norm_layer=norm_layers[i], drop_path=dp_rates[cur + j],
                layer_scale_init_value=layer_scale_init_values[i],
                res_scale_init_value=res_scale_init_values[i])
                for j in range(depths[i])]))
            cur += depths[i]
        self.norm = output_norm(dims[-1])
        if head_dropout > 0.0:
            self.head = head_fn(dims[-1], num_classes,
                                head_dropout=head_dropout)
        else:
            self.head = head_fn(dims[-1], num_classes)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            trunc_normal_(m.weight, std=.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)

    def forward_features(self, x):
        for i in range(self.num_stage):
            x = self.downsample_layers[i](x)
            x = self.stages[i](x)
        return self.norm(x.mean([1, 2]))  # (B, H, W, C) -> (B, C)

    def forward(self, x):
        return self.head(self.forward_features(x))


_MODIFIED_LN = partial(LayerNormGeneral, normalized_dim=(1, 2, 3), eps=1e-6,
                       bias=False)
_POOLFORMERV2 = dict(token_mixers=Pooling, norm_layers=_MODIFIED_LN)
_CONVFORMER = dict(token_mixers=SepConv, head_fn=MlpHead)
_CAFORMER = dict(token_mixers=[SepConv, SepConv, Attention, Attention],
                 head_fn=MlpHead)
_S = [64, 128, 320, 512]

# The original's @register_model builders, as (kwargs of MetaFormer).
ARCHS = {
    'poolformerv2_s12': dict(_POOLFORMERV2, depths=[2, 2, 6, 2], dims=_S),
    'poolformerv2_s24': dict(_POOLFORMERV2, depths=[4, 4, 12, 4], dims=_S),
    'poolformerv2_s36': dict(_POOLFORMERV2, depths=[6, 6, 18, 6], dims=_S),
    'poolformerv2_m36': dict(_POOLFORMERV2, depths=[6, 6, 18, 6],
                             dims=[96, 192, 384, 768]),
    'poolformerv2_m48': dict(_POOLFORMERV2, depths=[8, 8, 24, 8],
                             dims=[96, 192, 384, 768]),
}
for _family, _kwargs in (('convformer', _CONVFORMER),
                         ('caformer', _CAFORMER)):
    ARCHS.update({
        f'{_family}_s18': dict(_kwargs, depths=[3, 3, 9, 3], dims=_S),
        f'{_family}_s36': dict(_kwargs, depths=[3, 12, 18, 3], dims=_S),
        f'{_family}_m36': dict(_kwargs, depths=[3, 12, 18, 3],
                               dims=[96, 192, 384, 576]),
        f'{_family}_b36': dict(_kwargs, depths=[3, 12, 18, 3],
                               dims=[128, 256, 512, 768]),
    })


def metaformer(name, **kwargs):
    """The original model ``name`` (e.g. 'caformer_s18')."""
    return MetaFormer(**ARCHS[name], **kwargs)

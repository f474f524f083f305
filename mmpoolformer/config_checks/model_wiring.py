"""Checks that a model config's parts fit a PoolFormer backbone: its
arguments, the widths its neck expects and ``fork_last3`` against the
levels the neck reads.

They read configs only, so a mistake is named before anything is built
(and the first forward never meets it). Nothing here imports mmdet or
mmseg: whoever checks passes ``resolve``, which maps a config's ``type``
to what its registry would build.
"""
import inspect
from typing import Any, Callable, List, Optional, Tuple

from ..libraries import adapter_of
from ..models.backbones.archs import WiringError, check_known, resolve_arch
from ..models.backbones.legacy_builders import (LEGACY_BUILDERS, LEGACY_EXTRA,
                                                LEGACY_FIXED,
                                                fork_last3_from_env)
from ..models.backbones.metaformer import (MetaFormer, PoolFormer,
                                           argument_names, check_out_indices)

Resolve = Callable[[Any], Any]
# The arch each of the original configs' ``poolformer_<arch>_feat`` builds.
LEGACY_ARCHS = {build: name[:-len('_feat')]
                for name, build in LEGACY_BUILDERS.items()}


def is_poolformer(builder: Any) -> bool:
    """Whether ``builder`` (a registry entry) builds our backbone."""
    return builder in (PoolFormer, MetaFormer) or builder in LEGACY_ARCHS


def _backbone_class(builder: Any) -> type:
    """The class ``builder`` builds: PoolFormer for a legacy builder."""
    return PoolFormer if builder in LEGACY_ARCHS else builder


def _arguments(builder: Any) -> List[str]:
    """The keyword arguments a backbone config may give ``builder``."""
    names = set(argument_names(_backbone_class(builder)))
    if builder in LEGACY_ARCHS:
        names = names - set(LEGACY_FIXED) | set(LEGACY_EXTRA)
    return sorted(names)


def check_backbone_arguments(cfg: dict, builder: Any = PoolFormer,
                             where: str = 'model.backbone') -> None:
    """Raise :class:`WiringError` for a key of ``cfg`` that ``builder``
    does not take, suggesting the closest valid names."""
    name = getattr(builder, '__name__', 'PoolFormer')
    given = {k: v for k, v in cfg.items() if k not in ('type', '_scope_')}
    if builder in LEGACY_ARCHS:
        check_known({k: v for k, v in given.items() if k in LEGACY_FIXED},
                    (), f'{where}: {name} has no argument',
                    f"{name} sets it; use type='PoolFormer' to choose it.")
    check_known(given, _arguments(builder),
                f'{where}: {name} has no argument')


def backbone_settings(cfg: dict, builder: Any = PoolFormer) -> dict:
    """Every PoolFormer argument of a backbone config, defaults filled in
    (a legacy builder's arch and ``fork_feat`` included)."""
    args = {k: v for k, v in cfg.items()
            if k not in ('type', '_scope_', 'style')}
    if builder in LEGACY_ARCHS:
        args.update(arch=LEGACY_ARCHS[builder], fork_feat=True)
    bound = inspect.signature(_backbone_class(builder)).bind_partial(**args)
    bound.apply_defaults()
    return dict(bound.arguments)


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _reader(model: dict) -> Optional[Tuple[str, dict]]:
    """The part that reads the backbone's maps: the (first) neck, or a
    decode head that picks maps by ``in_index``; with its config key."""
    neck = model.get('neck')
    if isinstance(neck, (list, tuple)):
        neck = neck[0] if neck else None
    if isinstance(neck, dict):
        return 'model.neck', neck
    head = model.get('decode_head')
    if isinstance(head, dict) and 'in_index' in head:
        return 'model.decode_head', head
    return None


def _levels_read(reader: dict, builder: Any, num_levels: int) -> List[int]:
    """Which backbone maps ``reader`` (built by ``builder``) uses: its
    ``in_index``, or ``start_level`` up to ``end_level`` (an FPN; default
    all; mmdet's FPN reads ``end_level`` itself, mmseg's stops before)."""
    if 'in_index' in reader:
        return [i % num_levels for i in _as_list(reader['in_index'])]
    end = reader.get('end_level', -1)
    if end == -1:
        end = num_levels
    elif adapter_of(builder).fpn_end_level_inclusive:
        end += 1
    return list(range(reader.get('start_level', 0), end))


def _check_widths(where: str, reader: dict, out_channels: List[int],
                  backbone: str) -> None:
    if 'in_channels' not in reader:
        return
    widths = _as_list(reader['in_channels'])
    if 'in_index' in reader:
        expected = [out_channels[i] for i in _as_list(reader['in_index'])]
    else:
        expected = out_channels
    if widths != expected:
        fit = expected if len(expected) > 1 else expected[0]
        raise WiringError(
            f'{where}.in_channels={reader["in_channels"]} does not fit the '
            f'backbone: {backbone} outputs maps of {out_channels} channels. '
            f'Set {where}.in_channels={fit}.')


def _check_fork_last3(where: str, reader: dict, backbone_cfg: dict,
                      builder: Any, out_indices: Tuple[int, ...],
                      resolve: Resolve) -> None:
    """For a backbone that forks the maps of ``out_indices`` (normalised)."""
    if 0 not in out_indices:
        return
    if backbone_cfg.get('fork_last3') is None:
        # Only the legacy builders read the variable; PoolFormer ignores it.
        if builder not in LEGACY_ARCHS or not fork_last3_from_env():
            return
        cause = 'FORK_LAST3 is set in the environment, so the backbone'
        fix = 'unset FORK_LAST3 (or set model.backbone.fork_last3=False)'
    elif backbone_cfg['fork_last3']:
        cause = 'model.backbone.fork_last3=True'
        fix = 'set model.backbone.fork_last3=False'
    else:
        return
    levels = _levels_read(reader, resolve(reader.get('type')),
                          len(out_indices))
    if 0 in levels:
        reads = f'in_index={reader["in_index"]}' if 'in_index' in reader \
            else f'start_level={reader.get("start_level", 0)}'
        raise WiringError(
            f'{cause} leaves the first stage\'s map unnormalised (no '
            f'norm0), but {where} ({reader.get("type")}, {reads}) reads '
            'that level. '
            f'Either {fix}, or read from level 1 (an FPN with '
            'start_level=1, as configs/detection/retinanet_poolformer_s12.py'
            ' does).')


def check_model(model: dict, resolve: Resolve) -> None:
    """Raise :class:`WiringError` if a model config with a PoolFormer
    backbone gives it an unknown argument, its neck (or decode head)
    expects other widths than the backbone outputs, or ``fork_last3``
    leaves unnormalised a level the neck reads. Models with another
    backbone pass unchecked."""
    backbone = model.get('backbone')
    if not isinstance(backbone, dict):
        return
    builder = resolve(backbone.get('type'))
    if not is_poolformer(builder):
        return
    check_backbone_arguments(backbone, builder)
    reader = _reader(model)
    if reader is None:
        return
    where, reader_cfg = reader
    settings = backbone_settings(backbone, builder)
    arch = settings['arch'] or _backbone_class(builder).DEFAULT_ARCH
    out_indices = check_out_indices(settings['out_indices'])
    backbone_class = _backbone_class(builder)
    embed_dims = resolve_arch(
        arch, backbone_class.CUSTOM_ARCH_DEFAULTS)['embed_dims']
    out_channels = [embed_dims[i] for i in out_indices]
    name = f'{backbone_class.__name__} arch {arch!r}' \
        if isinstance(arch, str) else \
        f'the {backbone_class.__name__} arch dict'
    if out_indices != (0, 1, 2, 3):
        name += f' with out_indices={settings["out_indices"]}'
    _check_widths(where, reader_cfg, out_channels, name)
    if settings['fork_feat']:
        _check_fork_last3(where, reader_cfg, backbone, builder, out_indices,
                          resolve)

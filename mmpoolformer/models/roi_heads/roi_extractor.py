"""mmdet's SingleRoIExtractor with RoIAlign threaded on the CPU."""
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from torch import nn

from .cpu_roi_align import CPURoIAlign


class CPUSingleRoIExtractor(SingleRoIExtractor):
    """:class:`~mmdet.models.roi_heads.roi_extractors.SingleRoIExtractor`
    whose ``roi_layer=dict(type='RoIAlign', ...)`` builds
    :class:`CPURoIAlign`: mmcv's RoIAlign, with average pooling on CPU
    tensors as a threaded gather (equal outputs; mmcv's kernels on other
    devices). Other layer types build as in mmdet. In a config::

        roi_head=dict(
            bbox_roi_extractor=dict(type='CPUSingleRoIExtractor'),
            mask_roi_extractor=dict(type='CPUSingleRoIExtractor'))
    """

    def build_roi_layers(self, layer_cfg: dict,
                         featmap_strides: list) -> nn.ModuleList:
        if layer_cfg.get('type') == 'RoIAlign':
            layer_cfg = dict(layer_cfg, type=CPURoIAlign)
        return super().build_roi_layers(layer_cfg, featmap_strides)

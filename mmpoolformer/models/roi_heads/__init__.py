"""RoI layers for mmdet's two-stage detectors. ``roi_extractor`` imports
mmdet's models (a second at import), so it is imported when built."""
from .cpu_roi_align import CPURoIAlign, gather_roi_align


def cpu_single_roi_extractor(**kwargs):
    """Build :class:`~.roi_extractor.CPUSingleRoIExtractor` (what mmdet's
    ``MODELS`` holds as ``'CPUSingleRoIExtractor'``)."""
    from .roi_extractor import CPUSingleRoIExtractor
    return CPUSingleRoIExtractor(**kwargs)


__all__ = ['CPURoIAlign', 'cpu_single_roi_extractor', 'gather_roi_align']

"""mmcv's RoIAlign on the CPU as a weighted gather, on every thread.

mmcv's CPU RoIAlign loops over RoIs, channels and samples on one thread
with the GIL held; in a Mask R-CNN training step at the demo's size its
forward and backward are about a quarter of the step. Average RoIAlign is
linear in the feature map: each output bin is a weighted sum of at most
four pixels per sample point. So it is computed here as such a sum over
the map laid out ``(B*H*W) x C``: ``F.embedding_bag`` gathers whole
channel rows with per-sample weights (threaded, vectorised over C), and
the backward is the transposed gather, the entries sorted by the pixel
they came from. The sample points, their weights and mmcv's boundary
rules (points beyond one pixel outside the map count zero; points at
the border clamp to it) are mmcv's, so outputs and gradients equal
mmcv's up to float rounding (``tests/test_cpu_roi_align.py``).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import RoIAlign
from torch import Tensor
from torch.autograd import Function


class CPURoIAlign(RoIAlign):
    """:class:`mmcv.ops.RoIAlign` whose average pooling on CPU tensors runs
    as a threaded weighted gather; max pooling, torchvision's path and
    other devices run mmcv's own kernels. ``fast_path=False`` runs mmcv's
    everywhere (for comparisons)."""

    def __init__(self, *args, fast_path: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fast_path = fast_path

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        if not (self.fast_path and input.device.type == 'cpu'
                and self.pool_mode == 'avg' and not self.use_torchvision
                and not torch.onnx.is_in_onnx_export()):
            return super().forward(input, rois)
        return gather_roi_align(input, rois, self.output_size,
                                self.spatial_scale, self.sampling_ratio,
                                self.aligned)


def gather_roi_align(feats: Tensor, rois: Tensor,
                     output_size: Tuple[int, int], spatial_scale: float,
                     sampling_ratio: int, aligned: bool) -> Tensor:
    """mmcv's average RoIAlign: ``feats`` ``B x C x H x W``, ``rois``
    ``N x 5`` (batch index, x1, y1, x2, y2) -> ``N x C x oh x ow``,
    computed in fp32 (mmcv's CPU kernel takes fp32 only)."""
    batch, channels, height, width = feats.shape
    out_h, out_w = output_size
    if rois.shape[0] == 0:
        return feats.new_zeros(0, channels, out_h, out_w)
    with torch.autocast('cpu', enabled=False):
        table = feats.float().permute(0, 2, 3, 1).reshape(-1, channels)
        taps, weights, offsets = _sample_taps(
            rois.float(), output_size, spatial_scale, sampling_ratio,
            aligned, height, width)
        pooled = _WeightedGather.apply(table, taps, weights, offsets)
    return pooled.view(-1, out_h, out_w, channels).permute(0, 3, 1, 2) \
        .contiguous().to(feats.dtype)


def _sample_taps(rois: Tensor, output_size: Tuple[int, int],
                 spatial_scale: float, sampling_ratio: int, aligned: bool,
                 height: int, width: int) -> Tuple[Tensor, Tensor, Tensor]:
    """The gather of every output bin, bins in RoI order: the flat pixel
    index and weight of each tap (1-D, a bin's taps together) and where
    each bin's taps start. RoIs with the same sampling grid are computed
    together."""
    out_h, out_w = output_size
    bins = out_h * out_w
    offset = 0.5 if aligned else 0.0
    boxes = rois[:, 1:] * spatial_scale - offset
    start_x, start_y = boxes[:, 0], boxes[:, 1]
    size_w, size_h = boxes[:, 2] - start_x, boxes[:, 3] - start_y
    if (size_w < 0).any() or (size_h < 0).any():  # as mmcv's kernel
        raise ValueError('CPURoIAlign: RoIs cannot have negative size '
                         '(x2 < x1 or y2 < y1).')
    if not aligned:  # mmcv's legacy rule: RoIs at least one pixel
        size_w, size_h = size_w.clamp(min=1), size_h.clamp(min=1)
    if sampling_ratio > 0:
        grid_h = torch.full_like(size_h, sampling_ratio, dtype=torch.long)
        grid_w = grid_h
    else:  # adaptive: about one sample per pixel
        grid_h = torch.ceil(size_h / out_h).long()
        grid_w = torch.ceil(size_w / out_w).long()
    # 4 taps per sample; an empty RoI gets one tap of weight 0 per bin
    # (mmcv's output there is zero).
    taps_per_bin = (4 * grid_h * grid_w).clamp(min=1)
    sizes = taps_per_bin.repeat_interleave(bins)
    offsets = sizes.cumsum(0) - sizes
    total = int(sizes.sum())
    taps = rois.new_zeros(total, dtype=torch.long)
    weights = rois.new_zeros(total)
    first_pixel = rois[:, 0].long() * height * width
    for gh, gw in torch.stack([grid_h, grid_w], 1).unique(dim=0).tolist():
        if gh == 0 or gw == 0:
            continue
        group = ((grid_h == gh) & (grid_w == gw)).nonzero().squeeze(1)
        n = group.numel()
        y_at, y_w = _axis_taps(start_y[group], size_h[group], gh, out_h,
                               height)
        x_at, x_w = _axis_taps(start_x[group], size_w[group], gw, out_w,
                               width)
        # n x out_h x out_w x gh x gw x 2 (y tap) x 2 (x tap)
        flat = (first_pixel[group].view(n, 1, 1, 1, 1, 1, 1)
                + y_at.view(n, out_h, 1, gh, 1, 2, 1) * width
                + x_at.view(n, 1, out_w, 1, gw, 1, 2))
        weight = (y_w.view(n, out_h, 1, gh, 1, 2, 1)
                  * x_w.view(n, 1, out_w, 1, gw, 1, 2)) / (gh * gw)
        starts = offsets.view(-1, bins)[group].view(-1, 1)
        where = (starts + torch.arange(4 * gh * gw)).view(-1)
        taps[where] = flat.reshape(-1)
        weights[where] = weight.reshape(-1)
    return taps, weights, offsets


def _axis_taps(start: Tensor, size: Tensor, grid: int, bins: int,
               length: int) -> Tuple[Tensor, Tensor]:
    """Linear interpolation along one axis: for ``n`` RoIs the two pixel
    indices and weights of each sample (``n x bins x grid x 2``), by
    mmcv's rules (outside [-1, length] weighs zero, below 0 clamps to 0,
    from ``length - 1`` on reads the last pixel)."""
    bin_size = (size / bins).view(-1, 1, 1)
    steps = torch.arange(bins, dtype=start.dtype, device=start.device)
    samples = torch.arange(grid, dtype=start.dtype, device=start.device)
    at = (start.view(-1, 1, 1) + steps.view(1, -1, 1) * bin_size
          + (samples.view(1, 1, -1) + 0.5) * bin_size / grid)
    inside = ((at >= -1) & (at <= length)).to(at.dtype)
    at = at.clamp(min=0)
    low = at.floor().clamp(max=length - 1)
    at = torch.minimum(at, low.new_full((), length - 1))
    high = (low + 1).clamp(max=length - 1)
    frac = at - low
    weights = torch.stack([1 - frac, frac], -1) * inside.unsqueeze(-1)
    return torch.stack([low, high], -1).long(), weights


class _WeightedGather(Function):
    """``out[b] = sum of weight[t] * table[taps[t]]`` over bag ``b``'s taps
    (they start at ``offsets[b]``), and its transpose for the table's
    gradient: the taps sorted by pixel, each pixel a bag of the output
    rows it fed."""

    @staticmethod
    def forward(ctx, table: Tensor, taps: Tensor, weights: Tensor,
                offsets: Tensor) -> Tensor:
        ctx.save_for_backward(taps, weights, offsets)
        ctx.rows = table.shape[0]
        return F.embedding_bag(taps, table, offsets,
                               per_sample_weights=weights, mode='sum')

    @staticmethod
    def backward(ctx, grad: Tensor):
        taps, weights, offsets = ctx.saved_tensors
        sizes = torch.diff(offsets, append=offsets.new_tensor([taps.numel()]))
        bag_of_tap = torch.arange(offsets.numel()).repeat_interleave(sizes)
        order = taps.argsort(stable=True)
        counts = torch.bincount(taps, minlength=ctx.rows)
        grad_table = F.embedding_bag(
            bag_of_tap[order], grad.contiguous(), counts.cumsum(0) - counts,
            per_sample_weights=weights[order], mode='sum')
        return grad_table, None, None, None

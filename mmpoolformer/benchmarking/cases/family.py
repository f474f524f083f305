"""``family``: every arch of the family, its fast path
(``fast_path=True``: oneDNN's products for fp32 on the CPU, fused norms,
scaled dot-product attention, PoolFormer's folds) against the original
operations (``fast_path=False``) with the same weights: an inference
forward of the dense backbone at 1x3x512x512 and a training step (forward
and backward) at 2x3x256x256."""
from ...models import ARCHS, MetaFormer
from .backbone import twins_case

CASE = twins_case(
    'family', 'each arch: fast path vs the original operations, inference '
    'at 512x512 and a training step at 256x256; --bf16',
    MetaFormer,
    (('poolformer_s12', 'poolformerv2_s12', 'convformer_s18',
      'caformer_s18'), tuple(ARCHS)),
    ((('inference', (1, 3, 512, 512)), ('training', (2, 3, 256, 256))),
     (('inference', (1, 3, 32, 32)), ('training', (1, 3, 32, 32)))),
    ('original', 'fast_path'))

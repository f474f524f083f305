"""``products``: the MetaFormer baselines' fp32 matrix products, oneDNN's
(``MetaFormer(fast_path=True)``) against torch's ``F.linear``
(``fast_path=False``, the original operations), with the same weights:
each arch's dense backbone runs an inference forward at 1x3x512x512 and a
training step (forward and backward) at 2x3x256x256."""
from ...models import BASELINE_ARCHS, MetaFormer
from .backbone import twins_case

CASE = twins_case(
    'products', 'MetaFormer baselines: oneDNN products vs F.linear, '
    'inference at 512x512 and a training step at 256x256; --bf16',
    MetaFormer,
    (('convformer_s18', 'caformer_s18', 'poolformerv2_s12'),
     tuple(BASELINE_ARCHS)),
    ((('inference', (1, 3, 512, 512)), ('training', (2, 3, 256, 256))),
     (('inference', (1, 3, 32, 32)), ('training', (1, 3, 32, 32)))),
    ('F.linear', 'oneDNN'))

# RetinaNet with the paper's hybrid MetaFormer-S12: pooling in stages 1-2,
# multi-head self-attention in stages 3-4 (81.0% ImageNet top-1, 16.5 M
# params as a classifier). No hybrid ImageNet weights were released, so the
# PoolFormer-S12 file initialises every tensor that fits (stem, norms, MLPs,
# layer scales, downsampling); the attention projections start fresh and the
# log lists them as missing keys.
_base_ = ['./retinanet_poolformer_s12.py']

model = dict(
    backbone=dict(token_mixers=['pooling', 'pooling', 'attention',
                                'attention']))

# Semantic FPN with the paper's hybrid MetaFormer-S12: pooling in stages 1-2,
# multi-head self-attention in stages 3-4. As for detection, the PoolFormer-S12
# ImageNet file initialises every tensor that fits; the attention projections
# start fresh (listed as missing keys in the log).
_base_ = ['./fpn_poolformer_s12.py']

model = dict(
    backbone=dict(token_mixers=['pooling', 'pooling', 'attention',
                                'attention']))

# Semantic FPN with a PoolFormerV2-S12 backbone (MetaFormer Baselines for
# Vision) on ADE20K, 40k iterations: PoolFormer's own recipe
# (fpn_poolformer_s12.py, from sail-sg/poolformer), so the two generations
# compare one to one. No ADE20K figure is published for it. It starts from
# sail-sg/metaformer's released ImageNet-1K file.
_base_ = ['./fpn_poolformer_s12.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='MetaFormer',
        arch='poolformerv2_s12',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'poolformerv2/poolformerv2_s12.pth')))

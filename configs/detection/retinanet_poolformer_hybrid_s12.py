# RetinaNet with the paper's hybrid MetaFormer-S12, the released
# metaformer_ppaa_s12_224 of sail-sg/poolformer: pooling in stages 1-2,
# multi-head self-attention in stages 3-4 with a learned position embedding
# before stage 3, channel-only LayerNorm (81.0% ImageNet top-1 in the
# paper). It starts from that model's released ImageNet weights; the
# position embedding, learned for 224x224 inputs, is resized to each map.
_base_ = ['./retinanet_poolformer_s12.py']

model = dict(
    backbone=dict(
        arch='metaformer_ppaa_s12_224',
        init_cfg=dict(
            checkpoint='https://github.com/sail-sg/poolformer/releases/'
            'download/v1.0/metaformer_ppaa_s12_224.pth.tar')))

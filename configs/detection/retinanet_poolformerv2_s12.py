# RetinaNet with a PoolFormerV2-S12 backbone (MetaFormer Baselines for
# Vision) on COCO, 1x schedule: PoolFormer's own recipe
# (retinanet_poolformer_s12.py, from sail-sg/poolformer), so the two
# generations compare one to one. No COCO figure is published for it. It
# starts from sail-sg/metaformer's released ImageNet-1K file.
_base_ = ['./retinanet_poolformer_s12.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='MetaFormer',
        arch='poolformerv2_s12',
        # FPN reads stages 2-4 (PoolFormer's fork_last3): the first stage's
        # map is neither returned nor normalised.
        out_indices=(1, 2, 3),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'poolformerv2/poolformerv2_s12.pth')),
    neck=dict(in_channels=[128, 320, 512], start_level=0))

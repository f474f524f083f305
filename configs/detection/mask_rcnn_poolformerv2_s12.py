# Mask R-CNN with a PoolFormerV2-S12 backbone (MetaFormer Baselines for
# Vision) on COCO, 1x schedule: PoolFormer's own recipe
# (mask_rcnn_poolformer_s12.py, from sail-sg/poolformer), so the two
# generations compare one to one. No COCO figure is published for it. It
# starts from sail-sg/metaformer's released ImageNet-1K file.
_base_ = ['./mask_rcnn_poolformer_s12.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='MetaFormer',
        arch='poolformerv2_s12',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'poolformerv2/poolformerv2_s12.pth')))

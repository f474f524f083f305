# Mask R-CNN with a ConvFormer-S18 backbone (MetaFormer Baselines for Vision)
# on COCO, 1x schedule. No COCO recipe or figure is published for the
# MetaFormer baselines; this is the usual protocol for backbones of this
# class, mmdet's Swin-T Mask R-CNN 1x
# (configs/swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py): AdamW, lr 1e-4,
# weight decay 0.05 (none on norms and scales), drop path 0.2, 1000-iteration
# warm-up, 12 epochs with steps at 8 and 11, 8 GPUs x 2 images. It starts
# from sail-sg/metaformer's released ImageNet-1K file.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/mmpoolformer_run.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='MetaFormer',
        arch='convformer_s18',
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'convformer/convformer_s18.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]),
    # RoIAlign threaded on the CPU (mmcv's own kernel on a GPU), with
    # mmcv's outputs: mmpoolformer/models/roi_heads/cpu_roi_align.py.
    roi_head=dict(
        bbox_roi_extractor=dict(type='CPUSingleRoIExtractor'),
        mask_roi_extractor=dict(type='CPUSingleRoIExtractor')))

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'norm': dict(decay_mult=0.),
            'scale': dict(decay_mult=0.)
        }),
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=0.0001,
        betas=(0.9, 0.999),
        weight_decay=0.05))

default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1))

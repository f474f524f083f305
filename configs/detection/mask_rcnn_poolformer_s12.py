# Mask R-CNN with a PoolFormer-S12 backbone on COCO, 1x schedule: the recipe of
# sail-sg/poolformer (mmdet 2.x) on mmdet 3.x. Trained on 8 GPUs x 2 images;
# the 1x schedule (12 epochs, 500-iteration linear warm-up, steps at epochs 8
# and 11), 1333x800 resize and flip come from the inherited mmdet bases.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/mmpoolformer_run.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='PoolFormer',
        arch='s12',
        # FPN starts at level 0, so every stage keeps its output norm: the
        # original's Mask R-CNN config did not fork the last three stages.
        # This is the default, written out for readers.
        fork_last3=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/sail-sg/poolformer/releases/'
            'download/v1.0/poolformer_s12.pth.tar')),
    neck=dict(in_channels=[64, 128, 320, 512], num_outs=5),
    # RoIAlign threaded on the CPU (mmcv's own kernel on a GPU), with
    # mmcv's outputs: mmpoolformer/models/roi_heads/cpu_roi_align.py.
    roi_head=dict(
        bbox_roi_extractor=dict(type='CPUSingleRoIExtractor'),
        mask_roi_extractor=dict(type='CPUSingleRoIExtractor')))

optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0002, weight_decay=0.0001))

default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1))

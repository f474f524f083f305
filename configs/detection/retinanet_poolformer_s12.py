# RetinaNet with a PoolFormer-S12 backbone on COCO, 1x schedule: the recipe of
# sail-sg/poolformer (mmdet 2.x) on mmdet 3.x. Trained on 8 GPUs x 2 images;
# the 1x schedule (12 epochs, 500-iteration linear warm-up, steps at epochs 8
# and 11), 1333x800 resize and flip come from the inherited mmdet bases.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    '../_base_/mmpoolformer_run.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='PoolFormer',
        arch='s12',
        # The original ran RetinaNet with FORK_LAST3=1: FPN starts at level 1,
        # so the first stage's output norm is left out.
        fork_last3=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/sail-sg/poolformer/releases/'
            'download/v1.0/poolformer_s12.pth.tar')),
    neck=dict(
        in_channels=[64, 128, 320, 512],
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5))

optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001))

default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1))

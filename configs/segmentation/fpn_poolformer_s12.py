# Semantic FPN with a PoolFormer-S12 backbone on ADE20K, 40k iterations: the
# recipe of sail-sg/poolformer (mmseg 0.x, after PVT) on mmseg 1.x. Trained on
# 8 GPUs x 4 images (batch 32). Training data (512x512 crops of a (2048, 512)
# resize with ratio 0.5-2.0, flip, photometric distortion) come from the base.
_base_ = [
    'mmseg::_base_/models/fpn_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
    '../_base_/mmpoolformer_run.py',
]

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='PoolFormer',
        arch='s12',
        # FPN starts at level 0, so every stage keeps its output norm: the
        # original's Semantic FPN configs did not fork the last three
        # stages. This is the default, written out for readers.
        fork_last3=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/sail-sg/poolformer/releases/'
            'download/v1.0/poolformer_s12.pth.tar')),
    neck=dict(in_channels=[64, 128, 320, 512]),
    decode_head=dict(num_classes=150))

# The original tested with mmseg 0.x AlignedResize: a keep-ratio resize to
# (2048, 512), then each side resized up to a multiple of 32. These two
# transforms do exactly that (same sizes, same two interpolations).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# tools/test.py --tta (mmseg's SegTTAModel from the base runtime): the
# original's multi-scale + flip test, MultiScaleFlipAug over (2048, 512) x
# these ratios with AlignedResize, i.e. the test resize at each scale.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=(int(2048 * r), int(512 * r)),
                     keep_ratio=True) for r in img_ratios
            ],
            [dict(type='ResizeToMultiple', size_divisor=32)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations', reduce_zero_label=True)],
            [dict(type='PackSegInputs')],
        ])
]

optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0002, weight_decay=0.0001))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]

default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
# The lr above is for the original's batch of 8 GPUs x 4 images;
# tools/train.py --auto-scale-lr scales it to the batch actually used.
auto_scale_lr = dict(enable=False, base_batch_size=32)

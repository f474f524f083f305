# Mask R-CNN + PoolFormer-S12 on the demo photos (`python -m mmpoolformer.demo`
# writes data/demo/): the full COCO recipe with only the data, the schedule and
# the RoI sampling budget changed, small enough to train on 2 CPU cores in a
# few minutes. No pretrained weights offline: the backbone starts from random
# initialisation.
_base_ = ['../mask_rcnn_poolformer_s12.py', '_base_/demo_coco.py']

data_root = _base_.demo_data_root
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=6),
                  mask_head=dict(num_classes=6)),
    # Training budget: 64 sampled RoIs an image instead of 512 (at most 16
    # positives through the mask head), 3x less CPU time an iteration.
    train_cfg=dict(rcnn=dict(sampler=dict(num=64))))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=_base_.input_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=_base_.input_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    **_base_.demo_loader,
    dataset=dict(**_base_.demo_train_set, pipeline=train_pipeline))
val_dataloader = dict(
    **_base_.demo_loader,
    dataset=dict(**_base_.demo_val_set, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = _base_.demo_evaluator
test_evaluator = val_evaluator

# Schedule: 18 iterations an epoch, 126 in all.
max_epochs = 7
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.0005), clip_grad=dict(max_norm=10))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10,
         end=max_epochs * 18, eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(interval=6),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=6)

# RetinaNet + PoolFormer-S12 on the demo photos (`python -m mmpoolformer.demo`
# writes data/demo/): the full COCO recipe with only the data and the schedule
# changed, small enough to train on 2 CPU cores in a few minutes. No pretrained
# weights offline, so the backbone starts from random initialisation.
_base_ = ['../retinanet_poolformer_s12.py', '_base_/demo_coco.py']

data_root = _base_.demo_data_root
model = dict(backbone=dict(init_cfg=None), bbox_head=dict(num_classes=6))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=_base_.input_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=_base_.input_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
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

# Schedule: 18 iterations an epoch, 180 in all. From scratch, lr 1e-3 makes
# the focal loss spike; 3e-4 is stable.
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.0003), clip_grad=dict(max_norm=10))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10,
         end=max_epochs * 18, eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(interval=6),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=6)

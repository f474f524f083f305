# Semantic FPN + PoolFormer-S12 on the demo photos (`python -m
# mmpoolformer.demo` writes data/demo/): the full ADE20K recipe with only the
# data and the schedule changed, small enough to train on 2 CPU cores in a few
# minutes. No pretrained weights offline, so the backbone starts from random
# initialisation.
_base_ = ['../fpn_poolformer_s12.py']

data_root = 'data/demo/'
metainfo = dict(
    classes=('background', 'person', 'chair', 'diningtable', 'bottle',
             'animal', 'item'),
    palette=[(0, 0, 0), (220, 20, 60), (0, 130, 200), (255, 180, 0),
             (60, 180, 75), (145, 30, 180), (0, 200, 200)])
crop_size = (256, 256)
input_size = (320, 240)

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=7))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=input_size, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
               img_suffix='.jpg', seg_map_suffix='.png',
               reduce_zero_label=False)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(**dataset, pipeline=train_pipeline,
                 data_prefix=dict(img_path='images/train',
                                  seg_map_path='semantic/train')))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(**dataset, pipeline=test_pipeline,
                 data_prefix=dict(img_path='images/val',
                                  seg_map_path='semantic/val')))
test_dataloader = val_dataloader

# Schedule
max_iters = 140
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.002))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, by_epoch=False, begin=10,
         end=max_iters)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))

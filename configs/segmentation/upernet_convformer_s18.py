# UperNet with a ConvFormer-S18 backbone (MetaFormer Baselines for Vision) on
# ADE20K, 160k iterations. No ADE20K recipe or figure is published for the
# MetaFormer baselines; this is the usual protocol for backbones of this
# class, mmseg's Swin-T UperNet
# (configs/swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-
# 512x512.py): AdamW, lr 6e-5, weight decay 0.01 (none on norms and scales),
# drop path 0.3, 1500-iteration warm-up then poly 1.0, 8 GPUs x 2 images,
# 512x512 crops. It starts from sail-sg/metaformer's released ImageNet-1K
# file.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    '../_base_/mmpoolformer_run.py',
]

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='MetaFormer',
        arch='convformer_s18',
        drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'convformer/convformer_s18.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512], num_classes=150),
    auxiliary_head=dict(in_channels=320, num_classes=150))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'norm': dict(decay_mult=0.),
            'scale': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=160000,
        by_epoch=False)
]

train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader

default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
# The lr above is for 8 GPUs x 2 images; tools/train.py --auto-scale-lr
# scales it to the batch actually used.
auto_scale_lr = dict(enable=False, base_batch_size=16)

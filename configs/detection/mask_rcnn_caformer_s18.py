# Mask R-CNN with a CAFormer-S18 backbone (MetaFormer Baselines for Vision:
# separable convolutions in stages 1-2, attention in stages 3-4) on COCO, 1x
# schedule, with ConvFormer-S18's recipe (mask_rcnn_convformer_s18.py:
# mmdet's Swin-T Mask R-CNN 1x). No COCO figure is published for it. It
# starts from sail-sg/metaformer's released ImageNet-1K file.
_base_ = ['./mask_rcnn_convformer_s18.py']

model = dict(
    backbone=dict(
        arch='caformer_s18',
        init_cfg=dict(
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'caformer/caformer_s18.pth')))

_base_ = ['./fpn_poolformerv2_s12.py']

model = dict(
    backbone=dict(
        arch='poolformerv2_s36',
        init_cfg=dict(
            checkpoint='https://huggingface.co/sail/dl/resolve/main/'
            'poolformerv2/poolformerv2_s36.pth')))

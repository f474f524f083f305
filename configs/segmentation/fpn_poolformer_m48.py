_base_ = ['./fpn_poolformer_m36.py']

model = dict(
    backbone=dict(
        arch='m48',
        init_cfg=dict(
            checkpoint='https://github.com/sail-sg/poolformer/releases/'
            'download/v1.0/poolformer_m48.pth.tar')))

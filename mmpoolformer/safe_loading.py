"""Importing this module makes mmengine load local and http(s) checkpoints
through mmpoolformer's safe loader, which refuses a file that torch's
``weights_only`` loading refuses instead of running its code.

For the libraries' own entry points on a host whose loader falls back to
unsafe loading (onedl-mmengine): ``custom_imports=dict(imports=
['mmpoolformer', 'mmpoolformer.safe_loading'])`` in a config, or
``import mmpoolformer.safe_loading`` before ``init_detector``. Plain
``import mmpoolformer`` leaves the host's loader as it is.
"""
from .checkpoints import use_safe_checkpoint_loading

use_safe_checkpoint_loading()

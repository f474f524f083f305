# What every mmpoolformer config adds to the library's bases: the plugin's
# import (registers PoolFormer, our hooks and CheckedRunner) and safe
# checkpoint loading (mmengine's loader refuses what torch's weights_only
# refuses, also on onedl-mmengine, whose own loader falls back to unsafe
# loading), the runner that checks the model's wiring and names bad data, and
# the run-time hooks, one job each (docs/user_guides/errors.md and
# docs/user_guides/reliability.md). A config of your own gets the same by
# inheriting this file beside its library's bases.
custom_imports = dict(imports=['mmpoolformer', 'mmpoolformer.safe_loading'],
                      allow_failed_imports=False)
runner_type = 'CheckedRunner'
custom_hooks = [
    dict(type='CheckpointFitHook'),  # what is loaded fits the model
    dict(type='WorkDirLockHook'),  # one training run per work dir
    dict(type='RandomStatesHook'),  # exact resume
    dict(type='PaperMetricsHook'),  # after a test: metrics beside the paper's
]

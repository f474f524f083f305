"""bf16 on the CPU: what the processor offers (and its int8 dot-product
units, for INT8 deployment), and the one place that prepares a model for
bf16 inference and trains under bf16 autocast."""
from .capability import (Bf16Support, Bf16UnavailableError,
                         Int8UnavailableError, bf16_support, cpu_fields,
                         int8_units, require_cpu_bf16, require_cpu_int8)
from .inference import fp32_head_outputs, prepare_bf16_inference
from .training import CPUBf16OptimWrapper, bf16_optim_wrapper

__all__ = ['Bf16Support', 'Bf16UnavailableError',
           'CPUBf16OptimWrapper', 'Int8UnavailableError',
           'bf16_optim_wrapper', 'bf16_support', 'cpu_fields', 'int8_units',
           'fp32_head_outputs', 'prepare_bf16_inference', 'require_cpu_bf16',
           'require_cpu_int8']

"""What a benchmark ran on: the CPU, its matrix units, the threads, the
versions of torch and the runtimes, the checkout's commit and the rate of
a square ``torch.mm`` in fp32 and bf16 (so that figures from other CPUs
can be read)."""
import importlib.metadata
import os
import platform
import re
import subprocess
from typing import Dict, List, Optional

import torch

from ..mim_files import REPO
from ..precision import cpu_fields, int8_units
from .timing import matmul_gflops

#: /proc/cpuinfo flags of the matrix units, by the name they are shown as.
MATRIX_UNIT_FLAGS = {
    'AMX': ('amx_tile', 'amx_bf16', 'amx_int8'),
    'AVX-512 BF16': ('avx512_bf16', ),
    'AVX-512 VNNI': ('avx512_vnni', ),
    'AVX-VNNI': ('avx_vnni', ),
}
RUNTIMES = ('torch', 'onnxruntime', 'openvino', 'nncf')


def cpu_name() -> str:
    """The CPU's model name, or the platform's name for it."""
    return (cpu_fields().get('model name') or platform.processor()
            or platform.machine())


def matrix_units(flags: Optional[str] = None) -> List[str]:
    """The matrix units among the CPU's ``flags`` (default: this CPU's)."""
    present = set((flags if flags is not None
                   else cpu_fields().get('flags', '')).split())
    return [unit for unit, names in MATRIX_UNIT_FLAGS.items()
            if present.intersection(names)]


def cpu_slug(name: str) -> str:
    """``name`` in lower case with runs of other characters as one ``-``,
    for file names."""
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-') or 'cpu'


def versions() -> Dict[str, Optional[str]]:
    """Installed versions of torch and the runtimes (``None``: absent)."""
    found = {}
    for name in RUNTIMES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def commit() -> Optional[str]:
    """The checkout's commit, with ``+dirty`` where files differ from it
    (``None`` outside a git checkout)."""
    def git(*args: str) -> str:
        return subprocess.run(['git', '-C', REPO, *args], capture_output=True,
                              text=True, check=True).stdout.strip()
    try:
        head = git('rev-parse', 'HEAD')
        dirty = git('status', '--porcelain', '--untracked-files=no')
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ('+dirty' if dirty else '')


def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def describe_machine(matmul_size: int = 2048) -> dict:
    """This machine as a results file records it (torch's current
    threads)."""
    return dict(
        cpu=cpu_name(), matrix_units=matrix_units(),
        int8_units=int8_units(),
        threads=torch.get_num_threads(), cpus=os.cpu_count(),
        versions=versions(), commit=commit(),
        matmul=dict(size=matmul_size,
                    fp32_gflops=matmul_gflops(torch.float32, matmul_size),
                    bf16_gflops=matmul_gflops(torch.bfloat16, matmul_size)))

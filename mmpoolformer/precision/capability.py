"""What this CPU offers for bf16: native bf16 dot products (AVX-512 BF16)
and AMX matrix units (the fast case), as torch reports them; and for INT8:
int8 dot products (VNNI, AMX-INT8)."""
import subprocess
from typing import Dict, List, NamedTuple, Set

import torch


class Bf16UnavailableError(RuntimeError):
    """bf16 was asked for on a CPU that computes it only by emulation."""


class Bf16Support(NamedTuple):
    """``avx512_bf16``: native bf16 dot products; ``amx``: AMX tiles (bf16
    matrix products several times faster than fp32)."""
    avx512_bf16: bool
    amx: bool

    @property
    def native(self) -> bool:
        """bf16 products run natively (either unit), not emulated."""
        return self.avx512_bf16 or self.amx

    def describe(self) -> str:
        if self.amx:
            return 'AMX' + (' and AVX-512 BF16' if self.avx512_bf16 else '')
        if self.avx512_bf16:
            return ('AVX-512 BF16 without AMX (bf16 gains less than on an '
                    'AMX CPU)')
        return 'no native bf16 unit'


def bf16_support() -> Bf16Support:
    """The bf16 units of this CPU (both False where torch cannot tell)."""
    cpu = torch.cpu
    return Bf16Support(
        avx512_bf16=bool(getattr(cpu, '_is_avx512_bf16_supported',
                                 lambda: False)()),
        amx=bool(getattr(cpu, '_is_amx_tile_supported', lambda: False)()))


def require_cpu_bf16(flag: str = '--bf16') -> Bf16Support:
    """This CPU's bf16 units; raise :class:`Bf16UnavailableError` naming
    ``flag`` when it has none (bf16 would then be emulated, slower than
    fp32)."""
    support = bf16_support()
    if not support.native:
        raise Bf16UnavailableError(
            f'{flag}: this CPU has neither AMX nor AVX-512 BF16 '
            f'(torch.backends.cpu.get_cpu_capability() = '
            f'{torch.backends.cpu.get_cpu_capability()}), so bf16 would be '
            'emulated and slower than fp32. Run without ' + flag + '.')
    return support


class Int8UnavailableError(RuntimeError):
    """INT8 was asked for on a CPU without int8 dot-product instructions."""


#: /proc/cpuinfo flags of the int8 dot-product units, by the name they are
#: shown as.
INT8_UNIT_FLAGS = {'AMX-INT8': 'amx_int8', 'AVX-512 VNNI': 'avx512_vnni',
                   'AVX-VNNI': 'avx_vnni'}


def cpu_fields() -> Dict[str, str]:
    """``model name`` and ``flags`` of the first CPU, from /proc/cpuinfo or
    else ``lscpu`` (empty where neither answers)."""
    fields = {}
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(':')
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        try:
            out = subprocess.run(['lscpu'], capture_output=True, text=True,
                                 check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return {}
        for line in out.splitlines():
            key, _, value = line.partition(':')
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _cpu_flags() -> Set[str]:
    return set(cpu_fields().get('flags', '').split())


def int8_units() -> List[str]:
    """This CPU's int8 dot-product units (AMX-INT8, AVX-512 VNNI, AVX-VNNI)
    from /proc/cpuinfo (or lscpu), or as torch reports them where neither
    answers."""
    flags = _cpu_flags()
    if not flags:
        flags = {'avx512_vnni'} if getattr(torch.cpu, '_is_vnni_supported',
                                           lambda: False)() else set()
    return [unit for unit, flag in INT8_UNIT_FLAGS.items() if flag in flags]


def require_cpu_int8(flag: str = '--precision int8') -> List[str]:
    """This CPU's int8 units; raise :class:`Int8UnavailableError` naming
    ``flag`` when it has none (int8 products would then be emulated in
    wider instructions, no faster than f32)."""
    units = int8_units()
    if not units:
        raise Int8UnavailableError(
            f'{flag}: this CPU has no int8 dot-product instructions '
            '(AVX-512 VNNI, AVX-VNNI or AMX-INT8 in /proc/cpuinfo), so INT8 '
            'would not run faster than f32. Use --precision auto.')
    return units

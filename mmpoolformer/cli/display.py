"""``--show`` opens windows: check for a display before any work starts."""
import os
import sys


def check_display(flag: str = '--show') -> None:
    """Raise ``SystemExit`` with the fix when ``flag`` would open a window
    on a Linux machine without ``DISPLAY`` or ``WAYLAND_DISPLAY``."""
    if not sys.platform.startswith('linux'):
        return
    if os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY'):
        return
    raise SystemExit(
        f'{flag} opens a window, but there is no display (DISPLAY is not '
        'set). Save the drawn predictions instead (--show-dir DIR for '
        'tools/test.py, --out-dir DIR for tools/image_demo.py), or run with '
        'a display (ssh -X, or xvfb-run).')

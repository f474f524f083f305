"""Imports of the optional deployment packages, with the command that
installs them when they are missing."""
import importlib
from types import ModuleType

INSTALL = "pip install -r requirements/deploy.txt (or pip install " \
    "'mmpoolformer[deploy]')"


def require(package: str) -> ModuleType:
    """Import ``package`` (``'onnx'``, ``'onnxruntime'``, ``'openvino'``, ...)
    or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise ImportError(f'Deployment needs the {package!r} package, '
                          f'which cannot be imported ({err}). Install the '
                          f'deployment packages: {INSTALL}') from err

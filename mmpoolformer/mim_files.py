"""What mim reads from ``mmpoolformer/.mim/`` (configs, tools,
``model-index.yml``): in a wheel install there, in a source checkout at
the repository's root, beside the package."""
import os.path as osp

PACKAGE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(PACKAGE)


def mim_path(name: str) -> str:
    """``name`` (``'tools'``, ``'model-index.yml'``) in ``.mim/`` or, run
    from a source checkout, at the repository's root."""
    candidates = [osp.join(PACKAGE, '.mim', name), osp.join(REPO, name)]
    for path in candidates:
        if osp.exists(path):
            return path
    raise FileNotFoundError(
        f'No {name} at {" or ".join(candidates)}; reinstall mmpoolformer '
        '(pip install . copies it into mmpoolformer/.mim/; pip install -e . '
        'links it there).')

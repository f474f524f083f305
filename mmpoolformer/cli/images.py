"""The image files a command line names: one file, a folder's images or a
glob pattern's matches."""
import glob
import os
import os.path as osp
from typing import List, Sequence, Union

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                    '.tiff', '.webp')


def _images_in(inputs: str) -> List[str]:
    if osp.isfile(inputs):
        return [inputs]
    if osp.isdir(inputs):
        paths = sorted(osp.join(inputs, name) for name in os.listdir(inputs)
                       if name.lower().endswith(IMAGE_EXTENSIONS))
        where = (f'folder {inputs!r} has no image files '
                 f'({", ".join(IMAGE_EXTENSIONS)})')
    else:
        paths = sorted(p for p in glob.glob(inputs, recursive=True)
                       if osp.isfile(p))
        where = (f'{inputs!r} is neither an image, a folder nor a glob '
                 'pattern that matches files')
    if not paths:
        raise FileNotFoundError(f'No images to predict on: {where}. Pass an '
                                "image, a folder or a quoted glob such as "
                                "'photos/*.jpg'.")
    return paths


def list_images(inputs: Union[str, Sequence[str]]) -> List[str]:
    """The images each of ``inputs`` names, in order: a file, a folder's
    images (sorted) or a glob pattern's matches (sorted)."""
    inputs = [inputs] if isinstance(inputs, str) else inputs
    return [path for item in inputs for path in _images_in(item)]

"""The ``blocks`` stage on the study runner: one image's building-blocks page.

:func:`compute` analyses every layer (:func:`~inception_tools.blocks.build.analyse`) and renders the
thumbnails the page shows through the shared render cache, which is what makes a rerun cheap (the
cache keeps every finished render); :func:`write` writes the page (:mod:`.page`: ``index.html``,
``blocks.json``, ``image.png``, ``assets/``, ``renders/``). :func:`blocks_page` runs it through
:func:`inception_tools.runner.run`, which adds ``settings.json`` (stage, config, model and the image's
name and sha256), the folder's lock and the refusal of other settings.
"""

import dataclasses
import hashlib
import os
import time

from inception_tools import runner
from inception_tools.blocks.build import Blocks, analyse, check, load_image, render_blocks
from inception_tools.blocks.config import BlocksConfig
from inception_tools.blocks.page import write_page


@dataclasses.dataclass
class BlocksPage:
    """What the page shows: the analysed :class:`Blocks`, their cached renders and the run's summary."""

    blocks: Blocks
    renders: dict  # layer -> (units, {unit name: cached png path})
    summary: dict  # timings and render counts (blocks.json "summary")
    model: object  # the model analysed (its name and label names go on the page)
    image_path: str
    config: BlocksConfig


def compute(model, image, config, checkpoint=None, render_root=None):
    """Analyse ``image`` with ``config`` and render the page's thumbnails (into the render cache only).

    Args:
        model: a loaded model.
        image: the photograph's path.
        config: a :class:`~inception_tools.blocks.config.BlocksConfig`.
        checkpoint: unused (the render cache keeps finished renders); the runner's argument.
        render_root: the render cache (default: :func:`~inception_tools.blocks.render_cache.cache_root`).

    Returns:
        :class:`BlocksPage`.
    """
    started = time.monotonic()
    blocks = analyse(model, image, config)
    renders, summary = render_blocks(model, blocks, config, render_root, started)
    return BlocksPage(blocks, renders, summary, model, os.fspath(image), config)


def write(page, folder):
    """The page's files into ``folder`` (a :class:`runner.Folder`)."""
    write_page(folder.path, page.model, page.image_path, page.blocks.image, page.blocks.layers, page.renders,
               page.config.render, page.summary)


STAGE = runner.Stage("blocks", compute, write, outputs=("image.png", "blocks.json", "index.html"))


def file_digest(path):
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def blocks_page(model, image, config, out_dir, render_root=None):
    """Compute, render and write the building-blocks page of ``image`` into ``out_dir`` through the runner.

    Args:
        model: a loaded model.
        image: the photograph's path.
        config: a :class:`~inception_tools.blocks.config.BlocksConfig`.
        out_dir: the page folder; one finished with the same settings is analysed again (renders from the
            cache) and left as it is.
        render_root: the render cache (see :mod:`.render_cache`).

    Returns:
        :class:`BlocksPage`.

    Raises:
        UserError: an image it cannot read, a layer or class count ``model`` does not have, a folder made with other settings or
            written by another process.
    """
    check(model, config)  # before the folder is made
    load_image(image, model, config.resize)  # a missing or unreadable image is refused here too
    identity = runner.identity(model, image=os.path.basename(os.fspath(image)), image_sha256=file_digest(image))
    return runner.run(STAGE, config, out_dir, inputs_identity=identity, reads=[image], model=model, image=image,
                      render_root=render_root)

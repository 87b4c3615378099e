"""The ``basis`` stage on the study runner: neuron basis vs principal components of one layer (Dey et al.).

:func:`compute` is the study in memory (nothing written): one activation vector per image at a seeded
random position (:mod:`~inception_tools.activations.sample`), both bases and their explained variance
(:mod:`.steps`), the cumulative ablation curves (:mod:`.ablation`), distance-minimizing strips
(:mod:`.strip`) and Lucid renders (:mod:`.render`) of the chosen basis vectors. The sample, the bases,
the ablation's image batches and each render are saved in the checkpoint it is given, so a killed run
continues where it stopped. :func:`write` and :func:`read` are :mod:`.files`'; the gallery is
:mod:`.page`'s. :data:`STAGE` is what :func:`inception_tools.runner.run` needs; :func:`basis_study`
runs it into a folder (``settings.json`` is the runner's; ``basis.json`` keeps its ``settings``).
"""

import dataclasses
import json

from inception_tools import runner
from inception_tools.activations.pca import check_components
from inception_tools.basis import legacy, steps
from inception_tools.basis.files import output_names, read, write
from inception_tools.basis.page import importance_ranking
from inception_tools.basis.render import render_vectors
from inception_tools.basis.result import BasisStudy
from inception_tools.basis.strip import check_vectors, strips
from inception_tools.errors import UserError


def check(net, dataset, config):
    """Refuse what the model or the data cannot give (before any work); return ``config`` with ``top_k`` resolved."""
    model, layer = net.model, net.layer
    model.check_layer(layer, "ablate")
    c = dataclasses.replace(config, top_k=model.check_top_k(model.default_top_k if config.top_k is None
                                                             else config.top_k))
    depth = model.depth(layer)
    check_components(c.components, len(dataset), depth)
    for k in c.ks or ():
        if not 0 <= k <= (c.components or depth):
            raise UserError(f"k = {k} is larger than the layer's d = {depth}" if k > depth else
                            f"k = {k}: ablate between 0 and {c.components or depth} basis vectors")
    if c.vectors:
        if not 1 <= c.strip_k <= len(dataset):
            raise UserError(f"strip: cannot pick {c.strip_k} nearest patches from {len(dataset)} images")
        check_vectors(c.visual_basis, c.vectors, (c.components or depth) if c.visual_basis == "pca" else depth)
        if c.render:
            model.check_pre_relu(layer)
    return c


def summary_settings(net, dataset, config):
    """The ``settings`` of ``basis.json`` (before the runner, also the folder's ``settings.json``)."""
    return dict(model=net.model.name, layer=net.layer, dataset=getattr(dataset, "source", ""), n_images=len(dataset),
                resize=dataset.resize, pixel_scaling=net.pixel_scaling, seed=config.seed,
                components=config.components, tensor=net.layer, pre_relu_tensor=f"{net.layer}_pre_relu")


def compute(net, dataset, config, checkpoint=None, distribute=None):
    """The basis study ``config`` describes of ``net.layer`` over ``dataset``, in memory.

    Args:
        net: a :class:`~inception_tools.surgery.Network` at the studied layer.
        dataset: the labelled images (every one sampled; ``config.ablation_images`` of them ablated).
        config: a :class:`~inception_tools.basis.config.BasisConfig`.
        checkpoint: where the long steps save their progress (:class:`inception_tools.runner.Checkpoint`).
        distribute: runs the ablation's image batches elsewhere (:func:`inception_tools.scale.basis.distributor`).

    Returns:
        :class:`~inception_tools.basis.result.BasisStudy`.

    Raises:
        UserError: the model has no such layer, too few images for the components, a k or a vector out
            of range, an importance table of other components.
    """
    c = check(net, dataset, config)
    checkpoint = checkpoint or runner.Checkpoint()
    sample = steps.sampled(net, dataset, c.seed, c.batch_size, checkpoint)
    bases = steps.bases_of(sample, c.components, checkpoint)
    ranking = importance_ranking(c.importance, bases["pca"], c.score) if c.importance else None  # before the long work
    explained, ks = steps.explained(sample, bases, c.components)
    summary = {"settings": summary_settings(net, dataset, c), "explained_variance_k": ks, "d": bases["neuron"].dim,
               "n_sampled": len(sample.layer)}
    curves, seconds = None, {}
    if c.ablate:
        subset = steps.ablated(dataset, c)
        curves, seconds["ablation"] = steps.curves(net, subset, bases, sample.mean, c, c.top_k,
                                                   checkpoint.path("ablation"), distribute)
        summary.update(ablation_images=len(subset), pca_minus_neuron_top1=steps.claim_check(curves))
    basis = bases[c.visual_basis]
    drawn = strips(net, dataset, basis, sample.layer, c) if c.vectors else {}
    rendered = render_vectors(net.model, net.layer, basis, c, checkpoint) if c.vectors and c.render else {}
    summary = json.loads(json.dumps(summary, default=str))  # as basis.json reads back
    return BasisStudy(net.model.name, net.layer, config, sample, bases, explained, curves, drawn, rendered, summary,
                      ranking, seconds, str(distribute) if c.ablate and distribute is not None else "")


def curves_settings(net, dataset, config):
    """What ``ablation.csv`` records of ``config`` (``top_k`` resolved): its k values, images and top-k
    (None without ``ablate``)."""
    if not config.ablate:
        return None
    depth = net.model.depth(net.layer)
    return {"ks": steps.ablation_ks(config, depth, config.components or depth),
            "n_images": len(steps.ablated(dataset, config)), "top_k": config.top_k}


STAGE = runner.Stage("basis", compute, write, outputs=output_names, read=read)


def resolved(model, config):
    """``config`` with the render size resolved (the model's input size), which names the renders' folder."""
    if config.render and config.size is None:
        return dataclasses.replace(config, size=model.image_shape[0])
    return config


def basis_study(net, dataset, out_dir, config, distribute=None):
    """Run the study ``config`` describes into ``out_dir`` through the study runner; return the result.

    Args:
        net: a :class:`~inception_tools.surgery.Network` at the studied layer.
        dataset: the labelled images.
        out_dir: the study folder (``settings.json``, the checkpoint in ``.partial/``, the files of
            :mod:`.files`); a finished folder with the same settings is read back. A folder made before
            the runner is taken over when its settings are this run's (:mod:`.legacy`).
        config: a :class:`~inception_tools.basis.config.BasisConfig`.
        distribute: runs the ablation's image batches elsewhere (:func:`inception_tools.scale.basis.distributor`).

    Returns:
        :class:`~inception_tools.basis.result.BasisStudy`.

    Raises:
        UserError: bad input (see :func:`compute`), a folder made with other settings, or another process
            writing it.
    """
    config = resolved(net.model, config)
    checked = check(net, dataset, config)  # before the folder is made
    identity = runner.identity(net.model, dataset, layer=net.layer, pixel_scaling=net.pixel_scaling)
    legacy.adopt(STAGE, out_dir, summary_settings(net, dataset, config), runner.settings(STAGE, config, identity),
                 curves_settings(net, dataset, checked))
    return runner.run(STAGE, config, out_dir, inputs_identity=identity, reads=[config.importance], net=net,
                      dataset=dataset, distribute=distribute)

"""The basis study's ablation curves as Ray tasks (``inception-tools basis --ray``).

:func:`distributor` returns the hook that
:func:`inception_tools.basis.ablation.batched_outcomes` (and the basis stage's ``compute``,
``basis_study`` and ``it.basis``) take as ``distribute``.

What is spread. The ablation is the study's cost: for every image batch the
layer once, then every variant (basis, top/bottom, k) through the rest of the
network, ``V`` suffix passes per image. Its batches are independent, so runs
of whole batches become Ray tasks (:class:`~inception_tools.scale.blocks.BlockRunner`).
The sampling pass (the network up to the layer, once per image) and the PCA
stay in the driver: they cost a few percent of the ablation (InceptionV1
mixed4a, 200 images, 33 variants: 3.6 s against 59 s) and their result (the
bases and the mean) is what every task needs.

Byte-identical to one process. A task gets the driver's
:class:`~inception_tools.basis.ablation.BlockJob`: the projections prepared
from the driver's bases and mean, top-k, and the variants per session run
for each batch length, planned once by the driver (the plan depends on free
memory, which differs between processes); the projections run on one BLAS
thread everywhere (a multi-threaded matrix product changes its last bits
with the thread count, and a Ray worker has one). A worker runs the same batches
with the same stacks of variants, so every session run has the same inputs
as in one process; the driver puts each batch's outcomes into the
checkpoint (``.partial/ablation/`` of the study folder) in batch order, committing after every
batch as one process does, and the usual finishing path (CSV, per-image
outcomes, plot) runs unchanged. A resumed run sends only the batches after
the checkpoint.
"""

from inception_tools.scale.blocks import BlockRunner
from inception_tools.scale.recipe import Recipe


def distributor(recipe: Recipe, ray) -> BlockRunner:
    """The ``distribute`` hook of the basis ablation: its image batches as Ray tasks of ``recipe``'s network.

    ``recipe.layer`` is the studied layer and ``recipe.data`` the data the study was given in full
    (an ``ablation_images`` subset is picked from it on the workers, by image id).
    """
    return BlockRunner(recipe, ray)

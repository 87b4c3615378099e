"""Scale out: the shards of a scan or of a set of renders run as Ray tasks (``--ray [ADDRESS]``).

Method. The unit of work is a piece of the channels (and, for a scan, a block
of its images; see :mod:`.importance`), or a run of image batches of a
one-pass scan (:mod:`.blocks`). A task gets the *recipe* of
its inputs (model name and file, layer, data source, resize, limit), never a
pickled ``tf.Graph``: it loads the model and the data itself (cached per
worker process, so a worker that runs several shards loads them once), does
the same computation a one-process run does for those channels and returns
the results as NumPy arrays. The driver writes each shard's results into the
run's own on-disk state as it arrives, exactly as a one-process run would:

- importance (:mod:`.importance`): the records of the scan's partial outcome
  store (``<out>.partial/``). Pieces are made of the fast engine's channel
  groups and whole image batches, formed as one process forms them, so every
  session run is the same and the records are byte-identical; the usual
  finishing path (CSV, reliability, summary) then runs unchanged. Channels
  already on disk are not sent out again, so an interrupted run resumes.
- basis ablation (:mod:`.basis`): runs of whole image batches, each task
  returning the outcomes of every variant for its batches; the driver
  checkpoints them in batch order into ``.partial/ablation/`` as one process
  does (the sampling pass and the PCA stay in the driver);
- class statistics (:mod:`.classes`): runs of whole image batches, each task
  returning the unit values of every layer and which images are confidently
  right; the driver folds them into the statistics in batch order and saves
  its checkpoint (the runner's ``.partial/``) after every batch, as one process does;
- renders (:mod:`.render`): one task per render call, formed as the
  visualizations stage (:mod:`inception_tools.renders`) forms them (same
  channels, same seed), checkpointed by it as each arrives and saved as PNG + NPY.

Nothing but the recipe, the imputed values and the per-image baseline (for
the one-pass scans: the job, e.g. the ablation's projections, and the image
ids) travels to the workers, and only results travel back, so a cluster needs no
shared filesystem; every node needs the toolkit installed and the model file
and data at the same path as on the driver.

A task whose worker dies (killed, out of memory, node lost) is retried by Ray
(``max_retries``); an error raised by the computation itself is not retried.
One progress bar in the driver advances as pieces complete.

Ray is an optional extra (``pip install .[ray]``): only :mod:`.ray_session`
imports it, when a run asks for it.
"""

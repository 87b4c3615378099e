"""The fast engine: the layer once per image batch, only the suffix per channel.

The reference runs the whole network for every channel. Here each batch of
images goes through the network once; then, for every channel, only the part
after the layer runs, on the batch's activations with that channel imputed:

- Several channels per session run: their variants are stacked along the
  batch axis (``G`` channels x ``B`` images), sized from available memory.
- Where the layer's linear frontier covers every path to the output (see
  :mod:`.frontier`), the next 1x1 convolutions / matrix product are not
  recomputed per channel but updated by a rank-one term, built in the graph
  from the batch's frontier tensors kept in the session; a run is fed only
  the channels and their values. Otherwise the whole imputed layer is fed.
- Memory stays bounded: nothing but the current batch is held; the per-image
  outcomes (``correct`` bool and ``logprob`` float64, C x N) live in
  memory-mapped files in the scan's partial folder, checkpointed after each
  batch, so an interrupted scan resumes at the first unfinished batch.
"""

import json
import os

import numpy as np
import tensorflow as tf

from inception_tools.atomic import atomic_open
from inception_tools.importance.frontier import find_frontier, rank_one_variants
from inception_tools.importance.stats import topk_correct, true_logprob

tf1 = tf.compat.v1


def available_memory():
    """Bytes of memory available now (Linux), or 4 GiB where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


class Suffix:
    """How one network's suffix runs per channel: through its linear frontier, or the whole layer.

    With a frontier, each batch's pooled inputs ``P`` and linear outputs ``L``
    stay in the session (resource variables); a run feeds only the channels
    and their values, builds the rank-one variants in the graph and runs a
    second import of the model whose frontier tensors are mapped to them.
    """

    def __init__(self, net, shortcut=True):
        self.net = net
        self.branches = find_frontier(net.imputed, net.logits) if shortcut else None
        if self.branches:
            with net.graph.as_default():
                self._build_variant_graph()
            net.session.run([v.initializer for v in self._variables])

    def _build_variant_graph(self):
        self.channels = tf1.placeholder(tf.int32, [None], name="variant_channels")
        self.values = tf1.placeholder(tf.float32, [None], name="variant_values")
        self._variables, self._stores, input_map = [], [], {}
        for i, branch in enumerate(self.branches):
            pooled = self._keep(branch.pooled, f"frontier{i}_pooled")
            linear = self._keep(branch.linear, f"frontier{i}_linear")
            weight = tf.reshape(branch.weight, [-1, branch.weight.shape[-1]])
            input_map[branch.linear.name.split("/", 1)[1]] = rank_one_variants(
                linear, pooled, weight, self.channels, self.values)
        logits_name = self.net.logits.name.split("/", 1)[1]
        (self.variant_logits_tensor,) = tf.import_graph_def(
            self.net.model.graph_def, input_map=input_map, return_elements=[logits_name], name="variants")

    def _keep(self, tensor, name):
        variable = tf1.Variable(tf.zeros([0] * tensor.shape.rank), shape=tf.TensorShape([None] * tensor.shape.rank),
                                trainable=False, name=name, use_resource=True)
        self._variables.append(variable)
        self._stores.append(variable.assign(tensor, read_value=False))
        return variable.read_value()

    @property
    def uses_shortcut(self):
        return bool(self.branches)

    def prefix(self, images):
        """Run the network up to the layer (and its frontier) once; keep what the variants need."""
        if self.branches:
            self.net.run(self._stores, images)
            return len(images)
        return self.net.layer_activations(images)

    def variant_logits(self, cached, channels, values):
        """Logits [G, B, classes] with ``channels[g]`` imputed by ``values[g]``."""
        if self.branches:
            logits = self.net.session.run(self.variant_logits_tensor, {self.channels: channels, self.values: values})
            return logits.reshape(len(channels), cached, -1)
        stacked = np.repeat(cached[None], len(channels), axis=0)
        for g, c in enumerate(channels):
            stacked[g, ..., c] = values[g]
        logits = self.net.session.run(self.net.logits, {self.net.imputed: stacked.reshape((-1,) + cached.shape[1:])})
        return logits.reshape(len(channels), len(cached), -1)

    def bytes_per_variant_image(self, images):
        """Rough working memory of one imputed image through the suffix: 8 float32 copies of the layer."""
        acts = self.net.layer_activations(images[:1])
        return 4 * 8 * acts[0].size


def plan_groups(n_channels, batch, bytes_per_variant_image, memory=None, max_variants=128):
    """Channels per session run: as many as fit a quarter of free memory, up to ``max_variants`` images."""
    memory = available_memory() if memory is None else memory
    fits = max(1, int(memory // 4 // max(1, bytes_per_variant_image)))
    return max(1, min(n_channels, min(fits, max_variants) // batch))


class _Checkpoint:
    """Per-image outcomes on disk (memory-mapped) and how many images are done."""

    def __init__(self, workdir, channels, n_images):
        os.makedirs(workdir, exist_ok=True)
        self.state_path = os.path.join(workdir, "fast_state.json")
        state = {"channels": list(channels), "images_done": 0}
        if os.path.isfile(self.state_path):
            with open(self.state_path) as f:
                saved = json.load(f)
            if saved["channels"] == state["channels"]:
                state = saved
        fresh = state["images_done"] == 0
        mode = "w+" if fresh else "r+"
        shape = (len(channels), n_images)
        self.correct = np.lib.format.open_memmap(os.path.join(workdir, "fast_correct.npy"), mode, np.bool_, shape)
        self.logprob = np.lib.format.open_memmap(os.path.join(workdir, "fast_logprob.npy"), mode, np.float64, shape)
        self.images_done = state["images_done"]
        self.channels = state["channels"]

    def commit(self, images_done):
        self.correct.flush()
        self.logprob.flush()
        self.images_done = images_done
        with atomic_open(self.state_path) as f:
            json.dump({"channels": self.channels, "images_done": images_done}, f)


def fast_outcomes(net, dataset, channels, values, top_k, batch_size, progress=None, workdir=None,
                  shortcut=True, group=None, report=print):
    """Yield ``(channel, correct [N], logprob [N])`` like the reference engine, computed batch-first."""
    if not channels:
        return
    suffix = Suffix(net, shortcut)
    checkpoint = _Checkpoint(workdir, channels, len(dataset))
    labels = dataset.labels
    values = np.asarray(values, np.float32)
    if progress is not None:
        progress.update(checkpoint.images_done * len(channels))
    first = True
    for start in range(checkpoint.images_done, len(dataset), batch_size):
        images = dataset.images(start, start + batch_size)
        cached = suffix.prefix(images)
        if first:
            per_variant = suffix.bytes_per_variant_image(images)
            group = group or plan_groups(len(channels), len(images), per_variant)
            if report:
                outcome_mb = len(channels) * len(dataset) * 9 / 2**20
                work_mb = group * len(images) * per_variant / 2**20
                report(f"fast engine: {'linear shortcut, ' if suffix.uses_shortcut else ''}{group} channels x "
                       f"{len(images)} images per run; memory about {work_mb:.0f} MB working set + "
                       f"{outcome_mb:.0f} MB of outcomes on disk")
            first = False
        batch_labels = labels[start:start + len(images)]
        for g0 in range(0, len(channels), group):
            chunk = channels[g0:g0 + group]
            logits = suffix.variant_logits(cached, chunk, values[chunk])
            for g in range(len(chunk)):
                rows = g0 + g
                checkpoint.correct[rows, start:start + len(images)] = topk_correct(logits[g], batch_labels, top_k)
                checkpoint.logprob[rows, start:start + len(images)] = true_logprob(logits[g], batch_labels)
            if progress is not None:
                progress.update(len(chunk) * len(images))
        checkpoint.commit(start + len(images))
    for row, channel in enumerate(channels):
        yield channel, np.array(checkpoint.correct[row]), np.array(checkpoint.logprob[row])

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
  outcomes go to the scan's memory-mapped :mod:`.store`, flushed after each
  batch. A (batch, channel group) whose records are all computed is skipped,
  so an interrupted scan resumes where it stopped.
"""

import numpy as np
import tensorflow as tf

from inception_tools.importance.frontier import find_frontier, rank_one_variants
from inception_tools.importance.outcomes import Engine

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
        model = self.net.model
        pre_activation = model.logits_name()
        (output,) = tf.import_graph_def(model.graph_def, input_map=input_map,
                                        return_elements=[(pre_activation or model.output_name) + ":0"],
                                        name="variants")
        # Without a pre-softmax node the logits are log(softmax), as in surgery.Network.
        self.variant_logits_tensor = output if pre_activation else tf.math.log(output + 1e-30)

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


class FastEngine(Engine):
    """Batch-first: the prefix once per batch, the suffix per group of channels (see the module docstring)."""

    name = "fast"

    def __init__(self, net, dataset, values, top_k, batch_size, label_free=True, shortcut=True, group=None):
        super().__init__(net, dataset, values, top_k, batch_size, label_free)
        self.suffix = Suffix(net, shortcut)
        self.group = group

    def plan(self, n_channels):
        """Channels per session run, and the working memory of one run in bytes."""
        images = self.dataset.images(0, min(len(self.dataset), self.batch_size))
        per_variant = self.suffix.bytes_per_variant_image(images)
        group = self.group or plan_groups(n_channels, len(images), per_variant)
        return group, group * len(images) * per_variant

    def describe(self, n_channels, n_images):
        group, work = self.plan(n_channels)
        shortcut = "linear shortcut, " if self.suffix.uses_shortcut else ""
        records_mb = n_channels * n_images * 13 / 2**20
        return (f"fast engine: {shortcut}{group} channels x {min(n_images, self.batch_size)} images per run; "
                f"memory about {work / 2**20:.0f} MB working set + {records_mb:.0f} MB of outcomes on disk")

    def fill(self, store, channels, start, stop, progress=None):
        if not channels:
            return
        group, _ = self.plan(len(channels))
        rows = [store.row_of[c] for c in channels]
        for b0 in range(start, stop, self.batch_size):
            b1 = min(stop, b0 + self.batch_size)
            chunks = [(g0, rows[g0:g0 + group]) for g0 in range(0, len(rows), group)]
            todo = [(g0, chunk) for g0, chunk in chunks if store.pending(chunk, b0, b1)]
            if todo:
                cached = self.suffix.prefix(self.dataset.images(b0, b1))
                for g0, chunk in todo:
                    chunk_channels = channels[g0:g0 + len(chunk)]
                    logits = self.suffix.variant_logits(cached, chunk_channels, self.values[chunk_channels])
                    store.write(chunk, b0, self.outcomes(store, logits, b0))
                store.flush()
            if progress is not None:
                progress(len(channels) * (b1 - b0))

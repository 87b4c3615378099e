"""The fast engine: the layer once per image batch, only the suffix per channel.

The reference runs the whole network for every channel. Here each batch of
images goes through the network once; then, for every channel, only the part
after the layer runs, on the batch's activations with that channel imputed:

- Several channels per session run: their variants are stacked along the
  batch axis (``G`` channels x ``B`` images), sized from available memory.
- Two strategies for the suffix, each with an explicit per-batch state
  (:class:`Batch`): where the layer's linear frontier covers every path to the
  output (see :mod:`.frontier`), :class:`RankOneSuffix` does not recompute the
  next 1x1 convolutions / matrix product per channel but updates them by a
  rank-one term, in a graph of its own fed the batch's frontier tensors;
  otherwise :class:`FeedSuffix` feeds the whole imputed layer.
- Memory stays bounded: nothing but the current batch is held; the per-image
  outcomes go to the scan's memory-mapped :mod:`.store`, flushed after each
  batch. A (batch, channel group) whose records are all computed is skipped,
  so an interrupted scan resumes where it stopped.
"""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf

from inception_tools.importance.frontier import find_frontier, rank_one_variants
from inception_tools.importance.outcomes import Engine
from inception_tools.memory import available_bytes

tf1 = tf.compat.v1


def available_memory():
    """Bytes of memory available now, or 4 GiB where unknown."""
    return available_bytes() or 4 << 30


@dataclasses.dataclass
class Batch:
    """What one image batch leaves for its variants, explicitly: its size and the arrays they read.

    :class:`FeedSuffix` keeps the layer's activations; :class:`RankOneSuffix` the frontier's
    pooled inputs and linear outputs (placeholder -> array, fed to its own graph).
    """

    size: int
    activations: Optional[np.ndarray] = None
    feeds: Optional[dict] = None


class FeedSuffix:
    """The suffix fed the whole imputed layer: one stacked copy of the activations per channel.

    Where a residual connection goes around the layer, the tensors it carries
    (:meth:`surgery.Network.side_tensors`) are computed with the layer, once per
    batch, and fed stacked the same way, so the prefix still runs once.
    """

    uses_shortcut = False

    def __init__(self, net):
        self.net = net
        self.side = net.side_tensors()

    def prefix(self, images):
        """Run the network up to the layer (and the tensors around it) once."""
        arrays = self.net.run([self.net.activations] + self.side, images)
        return Batch(len(images), activations=arrays[0], feeds=dict(zip(self.side, arrays[1:])))

    def variant_logits(self, batch, channels, values):
        """Logits [G, B, classes] with ``channels[g]`` imputed by ``values[g]``."""
        acts = batch.activations
        stacked = np.repeat(acts[None], len(channels), axis=0)
        for g, c in enumerate(channels):
            stacked[g, ..., c] = values[g]
        return self.stacked_logits(batch, stacked)

    def stacked_logits(self, batch, stacked):
        """Logits [G, B, classes] of ``stacked`` [G, B, ...] variants of the batch's layer."""
        feed = {tensor: _stacked(array, len(stacked)) for tensor, array in (batch.feeds or {}).items()}
        feed[self.net.imputed] = stacked.reshape((-1,) + stacked.shape[2:])
        logits = self.net.session.run(self.net.logits, feed)
        return logits.reshape(len(stacked), batch.size, -1)


def _stacked(array, copies):
    """``copies`` copies of a batch array along its batch axis: [copies * B, ...]."""
    return np.repeat(array[None], copies, axis=0).reshape((-1,) + array.shape[1:])


class RankOneSuffix:
    """The suffix through the layer's linear frontier (:mod:`.frontier`), in a graph of its own.

    Per batch, the network's session computes the frontier's pooled inputs ``P``
    and linear outputs ``L`` once (the batch state). The variant graph takes them
    as placeholders with the frontier's weights as constants, builds each
    channel's rank-one variant of ``L`` and runs a second import of the model
    whose frontier tensors are mapped to those variants; a run is fed the state,
    the channels and their values.
    """

    uses_shortcut = True

    def __init__(self, net, branches):
        self.net = net
        pooled = list({b.pooled.name: b.pooled for b in branches}.values())  # the 1x1 branches share P
        self._fetches = pooled + [b.linear for b in branches]
        weights = net.session.run([b.weight for b in branches])
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.channels = tf1.placeholder(tf.int32, [None], name="variant_channels")
            self.values = tf1.placeholder(tf.float32, [None], name="variant_values")
            self._placeholders = [tf1.placeholder(tf.float32, [None] + t.shape.as_list()[1:]) for t in self._fetches]
            state = dict(zip((t.name for t in self._fetches), self._placeholders))
            input_map = {}
            for branch, weight in zip(branches, weights):
                matrix = tf.constant(weight.reshape(-1, weight.shape[-1]))
                input_map[branch.linear.name.split("/", 1)[1]] = rank_one_variants(
                    state[branch.linear.name], state[branch.pooled.name], matrix, self.channels, self.values)
            model = net.model
            pre_activation = model.logits_name()
            (output,) = tf.import_graph_def(model.graph_def, input_map=input_map,
                                            return_elements=[(pre_activation or model.output_name) + ":0"],
                                            name="variants")
            # Without a pre-softmax node the logits are log(softmax), as in surgery.Network.
            self.variant_logits_tensor = output if pre_activation else tf.math.log(output + 1e-30)
        self.session = tf1.Session(graph=self.graph)

    def prefix(self, images):
        """Run the network up to the layer and its frontier once: the batch state."""
        arrays = self.net.run(self._fetches, images)
        return Batch(len(images), feeds=dict(zip(self._placeholders, arrays)))

    def variant_logits(self, batch, channels, values):
        """Logits [G, B, classes] with ``channels[g]`` imputed by ``values[g]``."""
        feed = {**batch.feeds, self.channels: channels, self.values: values}
        logits = self.session.run(self.variant_logits_tensor, feed)
        return logits.reshape(len(channels), batch.size, -1)


def suffix_for(net, shortcut=True):
    """:class:`RankOneSuffix` where the frontier covers every path to the output (and ``shortcut``), else feed.

    The rank-one shortcut is refused where a residual connection goes around the layer (its variant graph
    is fed only the frontier) or where any consumer of the layer is not a 1x1 convolution or matrix product.
    """
    branches = find_frontier(net.imputed, net.logits) if shortcut and not net.side_tensors() else None
    return RankOneSuffix(net, branches) if branches else FeedSuffix(net)


def bytes_per_variant_image(net, images):
    """Rough working memory of one imputed image through the suffix: 8 float32 copies of the layer."""
    return 4 * 8 * net.layer_activations(images[:1])[0].size


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
        self.suffix = suffix_for(net, shortcut)
        self.group = group

    def plan(self, n_channels):
        """Channels per session run, and the working memory of one run in bytes."""
        images = self.dataset.images(0, min(len(self.dataset), self.batch_size))
        per_variant = bytes_per_variant_image(self.net, images)
        group = self.group or plan_groups(n_channels, len(images), per_variant)
        return group, group * len(images) * per_variant

    def describe(self, n_channels, n_images):
        group, work = self.plan(n_channels)
        shortcut = "linear shortcut, " if self.suffix.uses_shortcut else ""
        records_mb = n_channels * n_images * 13 / 2**20
        return (f"fast engine: {shortcut}{group} channels x {min(n_images, self.batch_size)} images per run; "
                f"memory about {work / 2**20:.0f} MB working set + {records_mb:.0f} MB of outcomes on disk")

    def variant_logits(self, batch, channels):
        """Logits [G, B, classes] of ``batch`` with each of ``channels`` ablated in turn."""
        return self.suffix.variant_logits(batch, channels, self.values[channels])

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
                batch = self.suffix.prefix(self.dataset.images(b0, b1))
                for g0, chunk in todo:
                    logits = self.variant_logits(batch, channels[g0:g0 + len(chunk)])
                    store.write(chunk, b0, self.outcomes(store, logits, b0))
                store.flush()
            if progress is not None:
                progress(len(channels) * (b1 - b0))

"""The sanity checks' loops: maps of the trained model, of each cascade step, and of the retrained model.

Every loop step is one checkpoint group, so a killed run resumes at the step
it was in: ``trained`` (the trained model's maps and the fixed classes),
``step01`` .. ``stepK`` (similarity to the trained maps, the figure image's
maps, seconds), ``retrained`` (the permuted-label model) and ``data`` (its
similarity). The class each map explains is decided once, on the trained
model, and kept for every randomized model, as in the paper.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from inception_tools import progress
from inception_tools.attribution import methods as registry
from inception_tools.attribution import targets
from inception_tools.sanity import randomize, retrain, similarity


def model_maps(model, dataset, config, chosen, desc):
    """float32 [methods, N, H, W] of ``model`` for the classes ``chosen``, and the seconds it took."""
    started = time.perf_counter()
    with registry.Graphs(model, config.methods, config.layer) as graphs:
        maps = registry.maps(graphs, dataset.images, len(dataset), chosen, config.settings(), desc=desc)
    return maps, time.perf_counter() - started


def trained_maps(model, dataset, config, checkpoint):
    """``(maps, classes, seconds)`` of the trained model (checkpoint ``trained``)."""
    saved = checkpoint.load("trained")
    if saved is not None:
        return saved["maps"], saved["targets"], float(saved["seconds"])
    with registry.Graphs(model, ("gradient",)) as graphs:
        logits = np.concatenate([graphs.plain.logits_of(dataset.images(s, s + config.batch_size))
                                 for s in range(0, len(dataset), config.batch_size)])
    chosen = targets.resolve(config.target, model, logits)
    maps, seconds = model_maps(model, dataset, config, chosen, "maps of the trained model")
    checkpoint.save("trained", maps=maps, targets=chosen, seconds=seconds)
    return maps, chosen, seconds


def cascade_steps(model, dataset, config, reference, chosen, checkpoint, blocks):
    """Similarity to ``reference`` after randomizing the top 1, 2, ... blocks.

    Returns:
        ``(similarity [steps, methods, measures, N], examples [steps, methods, H, W], seconds [steps])``.
    """
    sims, examples, seconds = [], [], []
    with progress.bar(total=len(blocks), desc="cascade", unit="block") as bar:
        for k in range(1, len(blocks) + 1):
            name = f"step{k:02d}"
            saved = checkpoint.load(name)
            if saved is None:
                graph_def, _ = randomize.randomized(model.graph_def, blocks[:k], config.seed)
                maps, took = model_maps(model.with_graph_def(graph_def), dataset, config, chosen,
                                        f"maps with {k} block(s) randomized")
                saved = {"similarity": similarity.compare(reference, maps),
                         "examples": maps[:, config.figure_image], "seconds": took}
                checkpoint.save(name, **saved)
            sims.append(saved["similarity"])
            examples.append(saved["examples"])
            seconds.append(float(saved["seconds"]))
            bar.update(1)
    return np.stack(sims), np.stack(examples), np.array(seconds)


def data_randomization(model, dataset, config, reference, chosen, checkpoint):
    """The permuted-label model's maps against ``reference``.

    Returns:
        ``(similarity [methods, measures, N], examples [methods, H, W], info dict)``.
    """
    saved = checkpoint.load("retrained")
    if saved is None:
        made = retrain.retrain(config.retrain_epochs, config.seed)
        saved = {"graph_def": np.frombuffer(made.graph_def.SerializeToString(deterministic=True), np.uint8),
                 "seconds": made.seconds, "train_accuracy": made.train_accuracy,
                 "test_accuracy": made.test_accuracy}
        checkpoint.save("retrained", **saved)
    info = {"epochs": config.retrain_epochs, "seed": config.seed, "train_seconds": round(float(saved["seconds"]), 1),
            "train_accuracy_on_permuted_labels": float(saved["train_accuracy"]),
            "test_accuracy_on_real_labels": float(saved["test_accuracy"])}
    done = checkpoint.load("data")
    if done is None:
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(saved["graph_def"].tobytes())
        maps, took = model_maps(model.with_graph_def(graph_def), dataset, config, chosen,
                                "maps of the permuted-label model")
        done = {"similarity": similarity.compare(reference, maps), "examples": maps[:, config.figure_image],
                "seconds": took}
        checkpoint.save("data", **done)
    info["maps_seconds"] = round(float(done["seconds"]), 1)
    return done["similarity"], done["examples"], info

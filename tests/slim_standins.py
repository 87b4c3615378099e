"""Random-weight stand-ins of Lucid's slim zoo models, built with ``tf_slim.nets`` (test and build code only).

Each stand-in is the real architecture of a ``lucid.modelzoo.vision_models``
class (``ResnetV2_50_slim``, ...) built by ``tf_slim.nets`` with its variables
at their initial values (seeded), frozen to constants: the node names, op
types, shapes and value range of the zoo file, without its weights. It is
written where Lucid's class says the file lives, under a zoo root that a local
HTTP server on 127.0.0.1 can serve (``INCEPTION_TOOLS_ZOO_URL``), with the
labels and synsets files the class names.

The shim: tf_slim's batch norm goes through ``tf.compat.v1.layers``, which
needs the ``tf-keras`` package and imports ``tf_keras.legacy_tf_layers`` where
tf-keras 2.21 keeps ``tf_keras.src.legacy_tf_layers``; :func:`_slim` aliases
that module before importing tf_slim. It lives here, never in the library.

Usage: ``python tests/slim_standins.py ZOO_ROOT [Class ...]`` writes the
stand-ins (default: every family of :data:`FAMILIES`) under ``ZOO_ROOT``.
"""

import importlib
import os
import sys

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1

# Lucid class -> (tf_slim.nets module, network function, arg scope function, classes)
FAMILIES = {
    "InceptionV1_slim": ("inception_v1", "inception_v1", "inception_v1_arg_scope", 1001),
    "InceptionV2_slim": ("inception_v2", "inception_v2", "inception_v2_arg_scope", 1001),
    "InceptionV3_slim": ("inception_v3", "inception_v3", "inception_v3_arg_scope", 1001),
    "ResnetV1_50_slim": ("resnet_v1", "resnet_v1_50", "resnet_arg_scope", 1000),
    "ResnetV2_50_slim": ("resnet_v2", "resnet_v2_50", "resnet_arg_scope", 1001),
}


def _slim():
    """``tf_slim`` importable on TensorFlow 2.21 (see the module docstring)."""
    import tf_keras  # noqa: F401

    sys.modules.setdefault("tf_keras.legacy_tf_layers", importlib.import_module("tf_keras.src.legacy_tf_layers"))
    import tf_slim

    return tf_slim


def lucid_class(name):
    from inception_tools.lucid_compat import import_lucid

    import_lucid()
    import lucid.modelzoo.vision_models as vision_models

    return getattr(vision_models, name)


def standin_graph_def(name, seed=0):
    """The frozen random-weight GraphDef of Lucid zoo class ``name`` (a key of :data:`FAMILIES`)."""
    slim = _slim()
    module_name, function, arg_scope, classes = FAMILIES[name]
    nets = importlib.import_module(f"tf_slim.nets.{module_name}")
    cls = lucid_class(name)
    output = [layer.name for layer in cls.layers if "dense" in layer.tags][-1]
    with tf.Graph().as_default() as graph:
        tf1.set_random_seed(seed)
        images = tf1.placeholder(tf.float32, [None, *cls.image_shape], name=cls.input_name)
        with slim.arg_scope(getattr(nets, arg_scope)()):
            getattr(nets, function)(images, classes, is_training=False)
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            frozen = tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), [output])
    names = {node.name for node in frozen.node}
    missing = [layer.name for layer in cls.layers if layer.name not in names]
    if missing:
        raise RuntimeError(f"{name} stand-in lacks Lucid's nodes {missing[:3]}")
    return frozen


def miniature_graph_def(name, seed=0):
    """A tiny graph with only the input, the default layer and the output nodes Lucid's class ``name``
    declares (right shapes, no architecture): enough to be downloaded, cached and loaded by zoo name fast."""
    from inception_tools.models import catalog

    cls = lucid_class(name)
    entry = catalog.zoo_entry(name)
    depths = {layer.name: layer.depth for layer in cls.layers}
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default() as graph:
        images = tf1.placeholder(tf.float32, [None, *cls.image_shape], name=cls.input_name)
        kernel = tf1.constant(rng.normal(size=(1, 1, 3, depths[entry.default_layer])).astype(np.float32))
        layer = tf.nn.relu(tf1.nn.conv2d(images, kernel, [1, 1, 1, 1], "SAME"), name=entry.default_layer)
        weight = tf1.constant(rng.normal(size=(depths[entry.default_layer], FAMILIES[name][3])).astype(np.float32))
        logits = tf.matmul(tf.reduce_mean(layer, [1, 2]), weight, name="logits")
        tf.nn.softmax(logits, name=entry.output_name)
    return graph.as_graph_def()


def label_lines(gs_path, synsets):
    """The lines of a label (or synset) file: 1000 classes, after a dummy where its name says ``with_dummy``."""
    lines = [f"n{i:08d}" if synsets else f"class {i}" for i in range(1000)]
    return ["dummy"] * ("with_dummy" in gs_path) + lines


def write_standin(root, name, seed=0, miniature=False):
    """Write the stand-in of ``name`` (or its :func:`miniature_graph_def`) and its label files under zoo
    root ``root``; return the .pb path."""
    cls = lucid_class(name)
    path = os.path.join(root, cls.model_path[len("gs://"):])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    graph_def = miniature_graph_def(name, seed) if miniature else standin_graph_def(name, seed)
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    for gs_path, synsets in [(getattr(cls, "labels_path", None), False), (getattr(cls, "synsets_path", None), True)]:
        if gs_path:
            target = os.path.join(root, gs_path[len("gs://"):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write("\n".join(label_lines(gs_path, synsets)) + "\n")
    return path


def main(argv):
    root, names = argv[0], argv[1:] or list(FAMILIES)
    for name in names:
        path = write_standin(root, name)
        print(f"{name}: {path} ({os.path.getsize(path) / 2**20:.0f} MB)")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main(sys.argv[1:])

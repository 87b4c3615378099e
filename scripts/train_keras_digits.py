"""Train a small tf.keras CNN on the bundled digits and save it as a Keras file (the models guide's example).

A model of the kind a researcher brings: Keras layers with their own names
(``conv1``, ``conv2``, a residual ``add``, a depthwise ``dw``), input
28x28x3 in [0, 1], a softmax over the ten digits. It trains for ``--epochs`` (20)
on the 4,000 training digits (about 40 s on 2 CPU cores) and prints its
test accuracy; the toolkit then takes it with ``--model FILE``.

    .venv/bin/python scripts/train_keras_digits.py --out outputs/keras-digits/cnn.keras
"""

import argparse
import os

import numpy as np

from inception_tools.data.digits import load_digits, to_rgb01


def build():
    import keras

    inp = keras.Input((28, 28, 3), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inp)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    y = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Add(name="add")([x, y])
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(x)
    x = keras.layers.Conv2D(32, 1, activation="relu", name="conv3")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inp, out)


def main():
    import keras

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the .keras file to write")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    train, train_labels = load_digits("train")
    test, test_labels = load_digits("test")
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(to_rgb01(train), train_labels, batch_size=64, epochs=args.epochs, verbose=2)
    accuracy = float(np.mean(model.predict(to_rgb01(test), verbose=0).argmax(axis=1) == test_labels))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out}: test accuracy {accuracy:.3f} on 1000 digits")


if __name__ == "__main__":
    main()

"""Is a channel's curve tuning an artefact of where or how the curve is drawn?

For one channel of one layer, prints its response at the centre unit to curves (radius 0.2 of the
image, orientations every 30 degrees) drawn at offsets of -16..16 pixels (step 8) from that unit's
receptive-field centre, and to the same curves with the polarity inverted (white on black).

    python scripts/curve_probe.py --model InceptionV1 --model-path InceptionV1.pb --layer mixed3b --channel 379
"""

import argparse

import numpy as np

import inception_tools as it
from inception_tools.examples import LayerReader
from inception_tools.tuning import responses, stimuli


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="InceptionV1")
    parser.add_argument("--model-path", default=None)
    parser.add_argument("--layer", default="mixed3b")
    parser.add_argument("--channel", type=int, default=379)
    args = parser.parse_args()
    model = it.load_model(args.model, args.model_path)
    (row, col), (i, j) = responses.unit_centre(model, args.layer)
    fam = stimuli.family("curve")
    angles = list(range(0, 360, 30))
    reader = LayerReader(model, args.layer)
    np.set_printoptions(linewidth=200, precision=0, suppress=True)
    print(f"{args.layer}:{args.channel} at unit ({i}, {j}), centred on pixel ({row}, {col}); orientations {angles}")
    for invert in (False, True):
        for dy in (-16, -8, 0, 8, 16):
            for dx in (-16, -8, 0, 8, 16):
                if invert and (dx or dy):
                    continue
                images = np.stack([stimuli.draw(fam, model.image_shape, a, 0.2, centre=(row - dy, col + dx))
                                   for a in angles])
                acts = np.maximum(reader(1 - images if invert else images), 0)[:, i, j, args.channel]
                print(f"{'white on black' if invert else 'black on white'} dx {dx:+3d} dy {dy:+3d}: {acts}")
    reader.close()


if __name__ == "__main__":
    main()

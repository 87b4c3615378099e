"""Batched ablation attribution (blocks) against the naive one-partial-run-per-channel loop.

Both measure the logit drop of each class when a channel of the layer is set to
zero on one image. Naive: ``Network.imputed_logits`` once per channel (it reruns
the bottom of the network each time). Batched: ``blocks.attribution.ablation_drops``
(the layer's activations once, the channel variants stacked along the batch axis
and fed to the imputation point; it also does every spatial position). Prints both
times, the ratio, and the largest difference of the drops.

    PYTHONPATH=. .venv/bin/python scripts/bench_blocks_ablation.py --model InceptionV1 \
        --model-path ../shared/models/inceptionv1/InceptionV1.pb --layer mixed4d \
        --image ../shared/data/building-blocks/dog_cat.jpg
"""

import argparse
import time

import numpy as np

from inception_tools.blocks.attribution import ablation_drops
from inception_tools.blocks.build import load_image, top_classes
from inception_tools.models import load_model
from inception_tools.surgery import Network


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--model-path")
    parser.add_argument("--layer", default="mixed3a")
    parser.add_argument("--image", required=True)
    parser.add_argument("--resize", default="squash")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    model = load_model(args.model, args.model_path, layers=[args.layer])
    image = load_image(args.image, model, args.resize)
    net = Network(model, args.layer)
    classes = top_classes(net.unablated_logits(image)[0], model, 3)
    net.unablated_logits(image)  # warm up

    start = time.perf_counter()
    base = net.unablated_logits(image)[0, classes]
    depth = model.depth(args.layer)
    naive = np.array([base - net.imputed_logits(image, [c], 0.0)[0, classes] for c in range(depth)]).T
    naive_s = time.perf_counter() - start

    start = time.perf_counter()
    acts = net.layer_activations(image)
    by_channel, by_position = ablation_drops(net, acts, np.zeros(depth), classes, args.batch_size)
    batched_s = time.perf_counter() - start

    print(f"{model.name} {args.layer}: {depth} channel ablations x {len(classes)} classes")
    print(f"naive (one partial run per channel): {naive_s:.2f} s")
    print(f"batched ({args.batch_size} variants per run, plus {by_position[0].size} positions): {batched_s:.2f} s")
    print(f"ratio naive/batched: {naive_s / batched_s:.1f}x; largest |difference| of drops: "
          f"{np.abs(naive - by_channel).max():.2e}")


if __name__ == "__main__":
    main()

"""Benchmark: the basis ablation and the class-statistics pass in one process and on a local Ray, same run.

Basis: sampling and PCA once (timed: the driver's serial part), then
``batched_outcomes`` on the same images in this process and through
:func:`inception_tools.scale.basis.distributor` on a local Ray of ``--workers``
one-CPU workers, cold (the workers load the model and data) and again warm;
outcomes compared byte for byte. Classes: ``collect`` the same way. Prints
seconds and the ratio Ray / one process.

    .venv/bin/python scripts/bench_ray_scans.py                 # embedded: mixed3a; conv2d0,mixed3a,mixed4a
    .venv/bin/python scripts/bench_ray_scans.py --model InceptionV1 \\
        --model-path ../shared/models/inceptionv1/InceptionV1.pb --data ../shared/data/imagenet-sample --limit 200 \\
        --layer mixed4a --components 128 --layers mixed3b,mixed4a,mixed4d
"""

import argparse
import shutil
import tempfile
import time

from inception_tools.basis import ablation
from inception_tools.activations.pca import make_basis
from inception_tools.activations.sample import sample_activations
from inception_tools.classes.collect import collect
from inception_tools.classes.config import ClassesConfig
from inception_tools.classes.study import resolve_classes
from inception_tools.data import load_dataset
from inception_tools.models import load_model
from inception_tools.scale import basis as ray_basis, classes as ray_classes
from inception_tools.scale.ray_session import session
from inception_tools.scale.recipe import Recipe
from inception_tools.surgery import Network


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def _report(what, times, same):
    one, cold, warm = times
    print(f"  {what}: one process {one:7.2f} s; Ray cold {cold:7.2f} s, warm {warm:7.2f} s; "
          f"ratio Ray / one {cold / one:.2f} cold, {warm / one:.2f} warm; byte-identical: {same}")


def bench_basis(args, ray):
    model = load_model(args.model, args.model_path, layers=[args.layer])
    dataset = load_dataset(args.data, model, limit=args.limit)
    net = Network(model, args.layer)
    t_sample, sample = timed(sample_activations, net, dataset, 0, 32)
    bases = {kind: make_basis(kind, sample.layer, args.components) for kind in ("pca", "neuron")}
    variants = ablation.make_variants(bases, ablation.log_grid(len(bases["pca"])))
    call = (net, dataset, ablation.Ablator(bases, variants, sample.mean), model.default_top_k, 16)
    hook = ray_basis.distributor(Recipe(model.name, model.path, args.layer, data=args.data, limit=args.limit), ray)
    runs = [timed(ablation.batched_outcomes, *call, distribute=d) for d in (None, hook, hook)]
    same = all(r.logprob.tobytes() == runs[0][1].logprob.tobytes() for _, r in runs[1:])
    print(f"basis {model.name} {args.layer}: {len(variants)} variants x {len(dataset)} images; "
          f"sampling pass {t_sample:.2f} s (driver)")
    _report("ablation", [t for t, _ in runs], same)


def bench_classes(args, ray):
    layers = args.layers.split(",")
    model = load_model(args.model, args.model_path, layers=layers)
    dataset = load_dataset(args.data, model, limit=args.limit)
    classes = resolve_classes(model)
    hook = ray_classes.distributor(ray_classes.recipe_of(model, layers, args.data, limit=args.limit), ray)
    runs = [timed(collect, model, dataset, ClassesConfig(tuple(layers)), classes, distribute=d)
            for d in (None, hook, hook)]
    same = all(r[0][layer].boot_sum.tobytes() == runs[0][1][0][layer].boot_sum.tobytes() and
               r[0][layer].m2.tobytes() == runs[0][1][0][layer].m2.tobytes() for _, r in runs[1:] for layer in layers)
    print(f"classes {model.name} {','.join(layers)}: {len(dataset)} images, {len(classes)} classes, "
          f"{runs[0][1][0][layers[0]].replicates} bootstrap replicates")
    _report("pass", [t for t, _ in runs], same)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--model-path")
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--layer", default="mixed3a", help="basis: the layer")
    parser.add_argument("--components", type=int, default=None, help="basis: principal components")
    parser.add_argument("--layers", default="conv2d0,mixed3a,mixed4a", help="classes: the layers")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    args.work = tempfile.mkdtemp(prefix="bench_ray_scans-")
    started = time.perf_counter()
    with session("local", args.workers) as ray:
        print(f"Ray start {time.perf_counter() - started:.1f} s, {args.workers} workers")
        bench_basis(args, ray)
        bench_classes(args, ray)
    shutil.rmtree(args.work)


if __name__ == "__main__":
    main()

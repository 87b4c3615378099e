from setuptools import find_packages, setup

setup(
    name="inception_tools",
    version="0.1.0",
    description="Graph surgery, mean-ablation importance and Lucid visualizations "
    "for frozen TensorFlow image classifiers (InceptionV1 first).",
    python_requires=">=3.11",
    packages=find_packages(include=["inception_tools", "inception_tools.*"]),
    include_package_data=True,
    # The web pages' assets and the embedded default model (models/data/<model>/ holds each
    # bundled model's .pb, labels and metrics).
    package_data={"inception_tools": ["web/*", "web/**/*", "models/data/*/*"]},
    install_requires=[
        "tensorflow-cpu>=2.16,<3",
        "numpy",
        "pillow",
        "scipy",
        "matplotlib",
        "tqdm",
        "mlxtend",
        "scikit-learn",  # NMF behind lucid.misc.channel_reducer (blocks)
        "threadpoolctl",  # one BLAS thread where bytes must not depend on the thread count (basis ablation)
        # What the installed lucid 0.3.10 really imports (it is installed with
        # --no-deps because its own pins, numpy<=1.19, cannot install on 3.11).
        "ipython",
        "decorator",
        "filelock",
        "cachetools",
        "future",
        "more-itertools",
        "tf-slim",
    ],
    # gpu: TensorFlow with CUDA; it provides the same `tensorflow` module as tensorflow-cpu, so
    # README's GPU paragraph removes tensorflow-cpu and reinstalls it after `pip install .[gpu]`.
    extras_require={"test": ["pytest", "playwright", "tf-keras"], "ray": ["ray>=2.9"],
                    "gpu": ["tensorflow[and-cuda]>=2.16,<3"]},
    entry_points={"console_scripts": ["inception-tools=inception_tools.cli:main"]},
)

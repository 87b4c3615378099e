from setuptools import find_namespace_packages, setup

setup(
    name="inception_tools",
    version="0.1.0",
    description="Graph surgery, mean-ablation importance and Lucid visualizations "
    "for frozen TensorFlow image classifiers (InceptionV1 first).",
    python_requires=">=3.11",
    # Namespace packages, so that the data folders (web/<page>/, models/data/<model>/) are packages
    # too: setuptools then takes their files as package data instead of warning "Package would be
    # ignored" once per folder.
    package_dir={"": "."},  # the project folder itself: a plain .pth for editable installs, without a warning
    packages=find_namespace_packages(include=["inception_tools", "inception_tools.*"],
                                     exclude=["*.__pycache__"]),
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
        "umap-learn",  # the atlas's 2-D layout (as Lucid's activation-atlas recipe)
        "scikit-image",  # SSIM and HOG similarity of saliency maps (sanity)
    ],
    # gpu: TensorFlow with CUDA; it provides the same `tensorflow` module as tensorflow-cpu, so
    # README's GPU paragraph removes tensorflow-cpu and reinstalls it after `pip install .[gpu]`.
    # test: nbclient and ipykernel run the notebooks (tests/test_notebooks.py); docs: the site
    # (mkdocs.yml; `mkdocs build --strict` runs in tests/test_docs.py).
    extras_require={"test": ["pytest", "playwright", "nbclient", "nbformat", "ipykernel"], "ray": ["ray>=2.9"],
                    "gpu": ["tensorflow[and-cuda]>=2.16,<3"],
                    "docs": ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26"]},
    entry_points={"console_scripts": ["inception-tools=inception_tools.cli:main"]},
)

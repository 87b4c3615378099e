"""The toolkit from a notebook: the main operations on in-memory objects.

    import inception_tools as it

    model = it.load_model("embedded")                      # or it.load_model("InceptionV1", path)
    ds = it.load_dataset("embedded", model, limit=300)     # a folder, an .npz, "embedded", "embedded-train"
    table = it.importance(model, "mixed3a", ds)            # every channel, every measure, intervals
    table.columns["mean_kl"], table.summary["reliability"]
    images = it.render(model, "mixed3a", 83, steps=64)     # Lucid: float32 [4, S, S, 3] in [0, 1]
    images = it.render(model, objectives.channel("mixed3a", 83) - 1e2 * objectives.diversity("mixed3a"))
    top = it.examples(model, "mixed3a", ds, channels=[83]) # strongest and weakest dataset examples

The command-line tool calls the same functions. TensorFlow is imported only
when a function needs it.
"""

from inception_tools.api.analyses import BasisStudy, basis, blocks, classes
from inception_tools.api.canon import atlas, attribute, circuit, dissect, sanity, tuning
from inception_tools.api.study import (analyze, examples, gallery, importance, load_dataset, load_model, reliability,
                                       render, select, survey_answers)

__all__ = ["BasisStudy", "analyze", "atlas", "attribute", "basis", "blocks", "circuit", "classes", "dissect",
           "examples", "gallery", "importance", "load_dataset", "load_model", "reliability", "render",
           "sanity", "select", "survey_answers", "tuning"]

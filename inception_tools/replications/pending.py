"""Sources whose stages are still being built: one "not yet built" row per published claim.

Each entry names the module the stage is expected in; when that module exists the row says so, so the
lead knows to wire its replication in (rows are generated from this list, not typed into the page).
"""

import importlib.util

from inception_tools.replications import page

PENDING = (
    ("curves", "Cammarata et al., Curve Detectors", "inception_tools.curves", [
        ("a family of curve detectors in mixed3b (3b:379 the main example)", "yes"),
        ("each responds to one orientation and falls off smoothly as it turns; together they cover all",
         "yes (orientation tuning curves)")]),
    ("adebayo", "Adebayo et al., Sanity checks for saliency maps", "inception_tools.sanity", [
        ("cascading randomization, top layer down: gradients and Grad-CAM change", "pass"),
        ("Guided Backprop and Guided Grad-CAM stay nearly the same", "fail")]),
    ("dissection", "Bau et al., Network Dissection", "inception_tools.dissection", [
        ("detectors: top-0.5% threshold per channel, IoU > 0.04 with a concept's mask", "unique detectors per layer"),
        ("interpretability = unique detectors per layer", "per layer counts")]),
)


def sections():
    """One :class:`~inception_tools.replications.page.Section` per pending source."""
    out = []
    for key, title, module, claims in PENDING:
        present = importlib.util.find_spec(module) is not None
        why = (f"`{module}` exists now; its replication is not wired into this page yet" if present else
               "another agent is building this stage; the lead will wire its figures in")
        rows = [page.Row(figure, theirs, "-", "-", page.NOT_BUILT, why) for figure, theirs in claims]
        out.append(page.Section(key, title, "Not yet built.", rows))
    return out

"""Mean-ablation importance of every channel of a layer.

``importance(c)`` = (images whose true class is in the top k, unablated) minus
(the same with channel ``c`` replaced by its mean over images and positions).
Besides that integer, each channel gets the images it newly gets wrong and
newly gets right, an exact two-sided McNemar p-value from those two counts,
the mean change in the true class's log-probability, two label-free changes of
the output distribution (KL and L1, :mod:`.measures`), bootstrap intervals and
the reliability of each ranking (:mod:`.reliability`). Per-image outcomes are
kept (:mod:`.store`). The stage on the study runner: :mod:`.stage`.
"""

from inception_tools.importance.config import ImportanceConfig
from inception_tools.importance.outcomes import Baseline, baseline, channel_means
from inception_tools.importance.stage import Importance, compute, score_layer
from inception_tools.importance.store import OutcomeStore

__all__ = ["Baseline", "Importance", "ImportanceConfig", "OutcomeStore", "baseline", "channel_means", "compute",
           "score_layer"]

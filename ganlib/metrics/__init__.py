"""Evaluation metrics: mode coverage for the 2-D toys, Parzen-window log-likelihood (the paper's
Table 1), FID on our own feature network, the digit-class histogram, and the quality figures of
generated digits (confident share, Inception-like score, class shares, memorisation), the
health signals of a run while it trains (:class:`HealthMonitor`), the JSD of 1-D runs over
time (:class:`JSDRecorder`), and means over seeds with their intervals (:func:`seed_interval`).

Each family lives in its own submodule and is re-exported here, so ``from ganlib.metrics import X``
is the one way to use them.
"""
from ganlib.metrics.parzen import (  # noqa: E402,F401
    PAPER_SIGMAS, nearest_neighbours, parzen_log_density, parzen_log_likelihood, parzen_score, parzen_select_sigma,
)
from ganlib.metrics.classifier import (  # noqa: E402,F401
    ClassifierConfig, ClassifierFeatures, MNISTClassifier, class_histogram, classifier_accuracy,
    load_or_train_classifier, missing_classes, predict_classes, train_classifier,
)
from ganlib.metrics.fid import fid_score  # noqa: E402,F401
from ganlib.metrics.digits import (  # noqa: E402,F401
    DigitScore, class_probabilities, digit_report, inception_like_score, report_line, score_generator, share_range, stray_ink_share,
    summary_row,
)
from ganlib.metrics.modes import ModeCoverageRecorder, mode_counts, mode_coverage, mode_spread  # noqa: E402,F401
from ganlib.metrics.health import HealthMonitor, HealthWarning  # noqa: E402,F401
from ganlib.metrics.divergence import JSDRecorder, steps_to_converge  # noqa: E402,F401
from ganlib.metrics.intervals import format_interval, seed_interval, separated  # noqa: E402,F401

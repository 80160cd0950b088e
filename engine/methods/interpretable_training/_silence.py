"""Each filter's mean peak per class, and whether it is silent on the classes not its own
(spec: interpretable-cnn §2.12 "silent on negatives"; the threshold is ours)."""
from __future__ import annotations

import numpy as np


def mean_peaks(peaks: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """(C,G) mean over each class's images of the (N,C) peaks; NaN for a class without images."""
    out = np.full((peaks.shape[1], classes), np.nan, np.float32)
    for g in range(classes):
        shown = labels == g
        if shown.any():
            out[:, g] = peaks[shown].mean(0)
    return out


def silence(mean_peak: np.ndarray, own: np.ndarray, ratio: float) -> np.ndarray:
    """(C,) int8: 1 where every other class's mean peak is below `ratio` × the own class's (a
    filter silent on its own class too is not: 0), 0 where one is not, -1 where the own class
    or every other class has no images. `own` (C,) is each filter's class index."""
    rows = np.arange(len(own))
    own_mean = mean_peak[rows, own]
    others = mean_peak.copy()
    others[rows, own] = np.nan
    loudest_other = np.where(np.isnan(others), -np.inf, others).max(1)
    known = np.isfinite(own_mean) & np.isfinite(loudest_other)
    silent = (own_mean > 0) & (loudest_other < ratio * own_mean)
    return np.where(known, silent, -1).astype(np.int8)

"""The numbers of a result as one table (CSV/JSON export): per filter, per sample, or metrics."""
from __future__ import annotations

import numpy as np

from engine.methods.explanatory_graph.layout import pixel_xy
from engine.results import ResultRecord


def activations_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    header = ["layer", "filter", "mean_of_max", "mean_of_mean", "top_sample"]
    rows = []
    for layer in record.meta["layers"]:
        peak, mean = record.arrays[f"filter_max/{layer}"], record.arrays[f"filter_mean/{layer}"]
        top = record.arrays[f"topk_index/{layer}"][:, 0]
        names = record.meta["sample_names"]
        rows += [[layer, f, float(peak[:, f].mean()), float(mean[:, f].mean()), names[int(top[f])]]
                 for f in range(peak.shape[1])]
    return header, rows


def attribution_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    baselines = record.meta["baselines"]
    header = ["sample", "target", "prediction"] + [f"abs_sum/{b}" for b in baselines]
    a = record.arrays
    rows = [[record.meta["sample_names"][i], int(a["targets"][i]), int(a["predictions"][i])]
            + [float(np.abs(a[f"attribution/{b}"][i]).sum()) for b in baselines]
            for i in range(len(a["targets"]))]
    return header, rows


def information_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per sample and layer: its entropy summary and calibration."""
    a = record.arrays
    header = ["sample", "layer", "mean_entropy", "fg_entropy", "bg_entropy", "ratio", "calibrated"]
    rows = []
    for layer in record.meta["layers"]:
        entropy, chosen = a[f"entropy/{layer}"], a[f"chosen/{layer}"]
        for i, name in enumerate(record.meta["sample_names"]):
            fg, bg = _regions(a, entropy[i], i)
            rows.append([name, layer, float(np.nanmean(entropy[i])), fg, bg,
                         float(a[f"ratio_trace/{layer}"][i, chosen[i]]), int(a[f"calibrated_rows/{layer}"][i])])
    return header, rows


def _regions(arrays: dict, entropy: np.ndarray, i: int) -> tuple:
    if "foreground_share" not in arrays:
        return None, None
    on_object = arrays["foreground_share"][i] >= 0.5
    fg = float(entropy[on_object].mean()) if on_object.any() else None
    bg = float(entropy[~on_object].mean()) if (~on_object).any() else None
    return fg, bg


def graph_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per node: where it sits, how it deforms, how strongly it fires, its parents (edges)."""
    a, geometry = record.arrays, record.meta["geometry"]
    header = ["layer", "node", "filter", "mean_h", "mean_w", "x_px", "y_px", "sigma", "mean_score", "parents"]
    rows = []
    for layer in record.meta["layers"]:
        g = geometry[layer]
        mean_pos, scores = a[f"mean_pos/{layer}"], a[f"scores/{layer}"].mean(0)
        xy = pixel_xy(mean_pos, g["centre"], g["stride"])
        for k, (h, w) in enumerate(mean_pos):
            parents = " ".join(str(int(p)) for p in a[f"parents/{layer}"][k])
            rows.append([layer, k, k // g["per_filter"], float(h), float(w), float(xy[k, 0]), float(xy[k, 1]),
                         float(a[f"sigma/{layer}"][k]), float(scores[k]), parents])
    return header, rows


def inference_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per image and layer: mean node score, and the strongest node with where it fired."""
    a, geometry = record.arrays, record.meta["geometry"]
    header = ["sample", "layer", "mean_score", "top_node", "top_score", "top_x_px", "top_y_px"]
    rows = []
    for layer in record.meta["layers"]:
        scores, g = a[f"scores/{layer}"], geometry[layer]
        top = scores.argmax(1)
        xy = pixel_xy(a[f"positions/{layer}"][np.arange(len(top)), top], g["centre"], g["stride"])
        rows += [[name, layer, float(scores[i].mean()), int(top[i]), float(scores[i, top[i]]),
                  float(xy[i, 0]), float(xy[i, 1])] for i, name in enumerate(record.meta["sample_names"])]
    return header, rows


def localization_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per part: test images and the mean normalized distance of each method."""
    from engine.methods.part_localization.result import (  # noqa: PLC0415
        METRIC_NAMES, RATES, PartLocalizationResult, finite_mean, rate_name)

    result = PartLocalizationResult.from_record(record)
    header = ["part", "shots", "test_images", *METRIC_NAMES.values(),
              *(rate_name(rate, name) for rate in RATES for name in METRIC_NAMES.values())]
    rows = []
    for t in result.tasks:
        rates = {m: t.rates(m) for m in METRIC_NAMES}
        rows.append([t.part, len(t.annotated), len(t.test),
                     *(finite_mean(t.distances(m, result.diagonal)) for m in METRIC_NAMES),
                     *(finite_mean(rates[m][rate]) for rate in RATES for m in METRIC_NAMES)])
    return header, rows


def instability_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per layer and measured unit: its category, instability and steadiest landmark
    (the --model2 model's layer after, as "model2 LAYER")."""
    from engine.methods.location_instability.result import rows_of  # noqa: PLC0415

    header = ["layer", "unit", "category", "instability", "steadiest_landmark", "steadiest_D"]
    a, meta, rows = record.arrays, record.meta, []
    for label, prefix in rows_of(meta):
        layer = label.split()[-1]
        table = a[f"{prefix}distance_std/{layer}"]
        for i, unit in enumerate(a[f"{prefix}units/{layer}"]):
            finite = np.isfinite(table[i])
            best = int(np.argmin(np.where(finite, table[i], np.inf))) if finite.any() else -1
            rows.append([label, int(unit), meta["categories"][int(a[f"{prefix}category/{layer}"][i])],
                         float(a[f"{prefix}instability/{layer}"][i]), meta["part_names"][best] if best >= 0 else "",
                         float(table[i, best]) if best >= 0 else float("nan")])
    return header, rows


def interpretability_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per layer and filter: T_f, its part, P_f and that part's mean IoU (the --model2
    model's layer after, as "model2 LAYER")."""
    from engine.methods.part_interpretability.result import PartInterpretabilityResult  # noqa: PLC0415

    result = PartInterpretabilityResult.from_record(record)
    header = ["layer", "filter", "threshold", "part", "interpretability", "mean_iou"]
    rows = []
    both = [*result.layers.items(), *((f"model2 {layer}", m) for layer, m in result.layers2.items())]
    for layer, m in both:
        part, value = m.part(), m.interpretability()
        rows += [[layer, f, float(m.threshold[f]), result.part_names[part[f]] if part[f] >= 0 else "",
                  float(value[f]), float(m.mean_iou[f, part[f]]) if part[f] >= 0 else float("nan")]
                 for f in range(len(part))]
    return header, rows


def training_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per masked layer and filter: its category, β_f, silence (1, 0; -1 unknown), its
    row of table A and its mean peak on each of the data's classes."""
    meta, a = record.meta, record.arrays
    header = (["layer", "filter", "category", "beta", "silent"] + [f"A/{c}" for c in meta["categories"]]
              + [f"mean_peak/{c}" for c in meta["data_categories"]])
    rows = []
    for layer in meta["layers"]:
        table_a, peaks = a[f"category_table/{layer}"], a[f"mean_peak/{layer}"]
        rows += [[layer, f, meta["categories"][int(k)], float(a[f"beta/{layer}"][f]), int(a[f"silent/{layer}"][f]),
                  *map(float, table_a[f]), *map(float, peaks[f])] for f, k in enumerate(a[f"category/{layer}"])]
    return header, rows


def consistency_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per layer pair and direction: the held-out fractions of orders 0…K and the residual,
    the raw ratios ρ (§4.4), the training images' residual fraction, the gates p_i, the share of each
    stage's ReLUs on, the held-out MSE."""
    from engine.methods.consistency.result import DIRECTIONS, ConsistencyResult, metric_names  # noqa: PLC0415

    result = ConsistencyResult.from_record(record)
    names, order = metric_names(result.config.max_order), result.config.max_order
    header = (["pair", "layer_a", "layer_b", "direction", *names, *(f"raw_{n}" for n in names),
               "train_variance_residual", *(f"gate_{i}" for i in range(order)),
               *(f"relu_on_{i}" for i in range(order)), "held_out_mse"])
    rows = []
    for pair in result.pairs:
        for direction in DIRECTIONS:
            m = getattr(pair, direction)
            rows.append([pair.label, pair.layer_a, pair.layer_b, direction, *map(float, m.fractions()),
                         *map(float, m.ratio), float(m.fractions(train=True)[-1]), *map(float, m.gates),
                         *map(float, m.relu_on), float(m.curve[-1, 2])])
    return header, rows


def utility_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """The with/without table of spec §5.4: one row a metric, the first model, the second and
    delta (the first's advantage, positive when it is better); None where not measured."""
    from engine.methods.pointcloud_utility.result import METRICS  # noqa: PLC0415

    metrics = record.metrics
    return (["metric", "model", "model2", "delta"],
            [[n, metrics.get(n), metrics.get(f"{n}/model2"), metrics.get(f"delta/{n}")] for n in METRICS])


def concepts_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per image (spec: concepts-bias-trees §3.2): its split, ŷ, the explained output, b, the
    residual, the explained share and the contributions' entropy, then per concept α_i·y_i, α_i and
    the prior w_i (standardised units)."""
    from engine.methods.concepts.result import ConceptsResult  # noqa: PLC0415

    result = ConceptsResult.from_record(record)
    names = result.concept_names
    header = (["sample", "split", "yhat", "explained", "bias", "residual", "explained_share", "entropy",
               *(f"contribution/{n}" for n in names), *(f"alpha/{n}" for n in names), *(f"prior/{n}" for n in names)])
    columns = (result.yhat, result.explained, result.residual, result.explained_share, result.entropy)
    rows = [[name, "held_out" if result.held_out[i] else "train", *(float(c[i]) for c in columns[:2]), result.bias,
             *(float(c[i]) for c in columns[2:]), *map(float, result.contribution[i]), *map(float, result.alpha[i]),
             *map(float, result.prior[i])] for i, name in enumerate(result.sample_names)]
    return header, rows


def bias_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row a pair of attributes, the most suspicious first (spec concepts-bias-trees §5.2 step 3):
    its rank, the mined r_ab, the ground truth R*_ab, the score |r − κR*| and E[cos(ρ_a, ρ_b)]."""
    names, cosine = record.meta["attributes"], record.arrays["cosine"]
    rows = [[rank + 1, r["a"], r["b"], r["mined"], r["truth"], r["score"],
             float(cosine[names.index(r["a"]), names.index(r["b"])])] for rank, r in enumerate(record.meta["relations"])]
    return ["rank", "attribute_a", "attribute_b", "mined", "truth", "score", "cosine"], rows


def metrics_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    return ["metric", "value"], [[k, v] for k, v in sorted(record.metrics.items())]


def decision_tree_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per node of the tree (spec §4.4): where it hangs, its images, filters used, b_v."""
    from engine.methods.decision_tree.result import DecisionTreeResult  # noqa: PLC0415

    result = DecisionTreeResult.from_record(record)
    tree, names = result.tree, result.leaf_names
    depth, leaves = tree.depths(), tree.leaf_counts()
    header = ["node", "parent", "depth", "kind", "leaves", "filters", "bias", "image"]
    rows = []
    for node, parent in enumerate(tree.parent):
        kind = "root" if parent < 0 else "leaf" if node < len(names) else "mode"
        rows.append([node, int(parent), int(depth[node]), kind, int(leaves[node]), int(tree.alpha[node].sum()),
                     float(tree.bias[node]), names[node] if node < len(names) else ""])
    return header, rows


def explainer_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row per image (spec concepts-bias-trees §6): its split, the interpretable share p, the
    reconstruction error at L′, its label and the performer's prediction from the reconstruction."""
    a, names = record.arrays, record.meta["class_names"]
    rows = [[sample, "held_out" if a["held_out"][i] else "train", float(a["share"][i]),
             float(a["reconstruction_error"][i]), names[a["labels"][i]] if a["labels"][i] >= 0 else "",
             names[a["predictions"][i]]] for i, sample in enumerate(record.meta["sample_names"])]
    return ["sample", "split", "share", "reconstruction_error", "label", "prediction_from_reconstruction"], rows


def transplant_table(record: ResultRecord) -> tuple[list[str], list[list]]:
    """One row a variant (spec concepts-bias-trees §6): the labelled new-category images it used
    (−1: the old categories through their own modules), pixel accuracy and IoU on held-out images."""
    from engine.methods.transplant.result import TransplantResult  # noqa: PLC0415

    rows = [list(row) for row in TransplantResult.from_record(record).scores()]
    return ["variant", "labelled_images", "accuracy", "iou"], rows


TABLES = {"activations": activations_table, "attribution": attribution_table,
          "information": information_table, "explanatory-graph": graph_table,
          "graph-inference": inference_table, "part-localization": localization_table,
          "location-instability": instability_table, "part-interpretability": interpretability_table,
          "interpretable-training": training_table, "consistency": consistency_table,
          "pointcloud-utility": utility_table, "concepts": concepts_table,
          "decision-tree": decision_tree_table, "dataset-bias": bias_table, "explainer": explainer_table,
          "transplant": transplant_table}


def table(record: ResultRecord) -> tuple[list[str], list[list]]:
    return TABLES.get(record.kind, metrics_table)(record)

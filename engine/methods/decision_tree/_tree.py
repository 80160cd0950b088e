"""Growing the tree of decision modes by greedy merging, and walking it (spec §4.2-4.3).

Nodes are numbered leaves first (the training images, g_I and α = 1), then merged nodes
in merge order, then the root. w_v = α_v ∘ ḡ_v and h_v(x) = w_vᵀx + b_v.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso


@dataclass
class Tree:
    parent: np.ndarray   # (M,) the parent node, −1 at the root (the last node)
    alpha: np.ndarray    # (M,D) bool α_v
    g: np.ndarray        # (M,D) unit ḡ_v
    bias: np.ndarray     # (M,) b_v

    @property
    def weights(self) -> np.ndarray:
        return self.alpha * self.g

    @property
    def root(self) -> int:
        return len(self.parent) - 1

    def children(self, node: int) -> np.ndarray:
        return np.flatnonzero(self.parent == node)

    def leaves_under(self, node: int) -> list[int]:
        """The leaves (training images) below `node`, itself if it is one."""
        kids = self.children(node)
        return [node] if not len(kids) else [leaf for k in kids for leaf in self.leaves_under(k)]

    def leaf_counts(self) -> np.ndarray:
        """(M,) how many leaves lie below each node (1 at a leaf), in one pass up the tree."""
        counts = (np.bincount(self.parent[self.parent >= 0], minlength=len(self.parent)) == 0).astype(np.int64)
        for node in range(self.root):  # parents come after their children
            counts[self.parent[node]] += counts[node]
        return counts

    def depths(self) -> np.ndarray:
        """(M,) levels below the root: the root 0, its children (the decision modes) 1."""
        depth = np.zeros(len(self.parent), np.int64)
        for node in range(self.root - 1, -1, -1):  # parents come after their children
            depth[node] = depth[self.parent[node]] + 1
        return depth

    def paths(self, g: np.ndarray) -> list[list[int]]:
        """For each row g_I, root to leaf, at each level the child with the largest cos(g_I, w_v)
        (§4.2 inference); the weights and the children are read once for all rows."""
        w = self.weights
        w = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
        kids = [self.children(node) for node in range(len(self.parent))]
        found = []
        for row in g:
            node, path = self.root, []
            while len(kids[node]):
                node = int(kids[node][np.argmax(w[kids[node]] @ row)])
                path.append(node)
            found.append(path)
        return found

    def hypothesis(self, node: int, x: np.ndarray) -> np.ndarray:
        return x @ self.weights[node] + self.bias[node]


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


class _Growth:
    """The state of the greedy merging: the root's current children and what each pair would give."""

    def __init__(self, x, g, bias, target, config):
        self.x, self.target, self.config = x, target, config
        n = len(x)
        # γ = 1/E[ŷ] over the positives; |·| keeps the objective's sense for an untrained net [ours]
        self.gamma = 1.0 / max(abs(float(target.mean())), 1e-12)
        self.sums, self.members = list(g), [np.array([i]) for i in range(n)]
        self.alpha, self.g, self.bias = [np.ones(x.shape[1], bool) for _ in range(n)], list(g), list(bias)
        self.parent = [-1] * n
        self.active = list(range(n))
        self.exponent = self.gamma * ((g * x).sum(1) + bias)  # γ h_{v(I)}(x_I), leaves first
        self.pairs: dict = {}
        self.lasso = Lasso(warm_start=True, max_iter=2000, tol=1e-6, selection="cyclic")

    def candidates(self) -> list[tuple[int, int]]:
        """Each child with its k nearest other children in cos(ḡ) [ours, §4.3]."""
        g = np.stack([self.g[v] for v in self.active])
        cos = g @ g.T
        np.fill_diagonal(cos, -np.inf)
        k = min(self.config.neighbours, len(self.active) - 1)
        near = np.argsort(-cos, axis=1, kind="stable")[:, :k]
        found = {tuple(sorted((self.active[i], self.active[j]))) for i, row in enumerate(near) for j in row}
        return sorted(found)

    def fit(self, a: int, b: int):
        """The union of children a and b, warm-started from their filters [ours, §4.3]."""
        return self.fit_members(np.concatenate([self.members[a], self.members[b]]),
                                self.sums[a] + self.sums[b], self.alpha[a] | self.alpha[b])

    def fit_members(self, idx, g_sum, start):
        """(Ω_u, α_u, ḡ_u, b_u, γh_u on Ω_u): ḡ the normalised sum of unit g's, α the LASSO's
        support (§4.2)."""
        g = unit(g_sum)
        features = self.x[idx] * g
        # sklearn minimises (1/2n)‖y − Zα‖² + a‖α‖₁: a = λ/2 gives §4.2's (1/n)Σ(…)² + λ‖α‖₁
        self.lasso.alpha = self.config.lasso_scale * np.sqrt(len(idx)) / 2
        self.lasso.coef_ = start.astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # only the support is kept
            self.lasso.fit(features, self.target[idx])
        alpha = self.lasso.coef_ != 0
        # the binarised α's own least-squares offset [ours]
        bias = float((self.target[idx] - features[:, alpha].sum(1)).mean())
        return idx, alpha, g, bias, self.gamma * (features[:, alpha].sum(1) + bias)

    def gain(self, pair, log_theta: float) -> float:
        """Δlog E = 1 + γΣ(h_u − h_old) + N log(Θ_t/Θ_{t+1}), Θ updated only on Ω_u (§4.2)."""
        idx, _, _, _, new = self.pairs[pair]
        old = self.exponent[idx]
        kept = max(1.0 - float(np.exp(old - log_theta).sum()), 0.0)
        log_ratio = np.log(kept + float(np.exp(new - log_theta).sum()))
        return 1.0 + float((new - old).sum()) - len(self.exponent) * log_ratio

    def merge(self, pair) -> None:
        idx, alpha, g, bias, new = self.pairs[pair]
        node = len(self.parent)
        for v in pair:
            self.parent[v] = node
            self.active.remove(v)
        self.parent.append(-1)
        self.sums.append(self.sums[pair[0]] + self.sums[pair[1]])
        self.members.append(idx)
        self.alpha.append(alpha)
        self.g.append(g)
        self.bias.append(bias)
        self.active.append(node)
        self.exponent[idx] = new

    def step(self) -> bool:
        """One merge of the best pair; False once the best Δ ≤ 0 or one child is left."""
        if len(self.active) < 2:
            return False
        pairs = self.candidates()
        for pair in pairs:
            if pair not in self.pairs:
                self.pairs[pair] = self.fit(*pair)
        log_theta = float(logsumexp(self.exponent))
        gains = [self.gain(pair, log_theta) for pair in pairs]
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            return False
        self.merge(pairs[best])
        return True

    def tree(self) -> Tree:
        root = len(self.parent)
        parent = np.array([root if p < 0 else p for p in self.parent] + [-1], np.int64)
        d = self.x.shape[1]
        return Tree(parent, np.array(self.alpha + [np.zeros(d, bool)]),
                    np.array(self.g + [np.zeros(d)]), np.array(self.bias + [0.0]))


def grow(x, g, bias, target, config, progress) -> Tree:
    """The greedy merging of §4.2 over the filter-level vectors of the training images."""
    growth = _Growth(x, g, bias, target, config)
    for merges in range(len(x)):
        progress.step(merges, len(x), f"merging: {len(growth.active)} decision modes")
        if not growth.step():
            break
    return growth.tree()


def one_node(x, g, bias, target, config) -> Tree:
    """The tree whose root has one child holding every training image: the baseline to beat."""
    growth = _Growth(x, g, bias, target, config)
    _, alpha, mean_g, b, _ = growth.fit_members(np.arange(len(x)), g.sum(0), np.ones(x.shape[1], bool))
    d = x.shape[1]
    return Tree(np.array([1, -1]), np.array([alpha, np.zeros(d, bool)]), np.array([mean_g, np.zeros(d)]),
                np.array([b, 0.0]))

"""Plotting for the evidence scripts: matplotlib without a display, and the
grouped bar chart (one group of bars per row of a results table, one bar
per score, each with its interval, min-max over seeds or a bootstrap
interval, as an error bar). matplotlib is a dependency
(scripts/deps/evidence.txt): without it the scripts fail rather than leave
the committed plots stale."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402


def bar_chart(path, title, groups, series, ylabel, ylim=(0, 1)):
    """groups: a label per row; series: {score name: [(value, low, high) per row]}."""
    n = len(series)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(groups) + 2), 4))
    at = np.arange(len(groups))
    for k, (name, cells) in enumerate(series.items()):
        v = np.array(cells, dtype=float)
        ax.bar(at + (k - (n - 1) / 2) * width, v[:, 0], width, label=name,
               yerr=[v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]], capsize=2, error_kw={"lw": 0.8})
    ax.set_xticks(at)
    ax.set_xticklabels(groups, fontsize=7)
    ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

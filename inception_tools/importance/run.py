"""A resumable importance scan of a layer, written channel by channel.

While a scan runs, ``<out>.partial/`` holds its settings (``config.json``),
the channel means and unablated outcomes (``state.npz``), and one CSV row per
finished channel (``rows.csv``, appended and flushed channel by channel). The
same command, run again, checks the settings match, keeps every complete row
and scores only the missing channels. At the end the sorted CSV and its
``.json`` summary are written atomically and the partial folder is removed, so
an interrupted-and-resumed scan ends with the same file as an uninterrupted one.
"""

import csv
import hashlib
import json
import os
import shutil
import time

import numpy as np
from tqdm import tqdm

from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.errors import UserError
from inception_tools.importance.outcomes import baseline, channel_means, reference_outcomes
from inception_tools.importance.stats import summarize

COLUMNS = ["model", "layer", "feature_ind", "importance", "newly_wrong", "newly_right", "mcnemar_p", "mean_delta_logprob"]
ABLATIONS = ("mean", "zero")


def meta_path(out_csv):
    return os.path.splitext(out_csv)[0] + ".json"


def _fingerprint(model, dataset):
    digest = hashlib.sha256()
    with open(model.path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    digest.update("\n".join(dataset.ids).encode())
    digest.update(np.asarray(dataset.labels, np.int64).tobytes())
    return digest.hexdigest()


def _config(model, layer, dataset, top_k, ablation, pixel_scaling):
    return {
        "model": model.name,
        "layer": layer,
        "top_k": top_k,
        "ablation": ablation,
        "pixel_scaling": pixel_scaling,
        "resize": dataset.resize,
        "n_images": len(dataset),
        "fingerprint": _fingerprint(model, dataset),
    }


def _format_row(model_name, layer, channel, summary):
    return [model_name, layer, channel, summary["importance"], summary["newly_wrong"], summary["newly_right"],
            repr(summary["mcnemar_p"]), repr(summary["mean_delta_logprob"])]


class _Progress:
    """The partial folder of one scan."""

    def __init__(self, out_csv, config):
        self.dir = out_csv + ".partial"
        self.rows_path = os.path.join(self.dir, "rows.csv")
        config_path = os.path.join(self.dir, "config.json")
        if os.path.isdir(self.dir) and os.path.isfile(config_path):
            with open(config_path) as f:
                saved = json.load(f)
            if saved != config:
                changed = sorted(k for k in config if saved.get(k) != config[k])
                raise UserError(
                    f"{self.dir} holds an unfinished scan with other settings ({', '.join(changed)}); "
                    "delete it or choose another --out"
                )
        else:
            os.makedirs(self.dir, exist_ok=True)
            with atomic_open(config_path) as f:
                json.dump(config, f, indent=1)

    def load_state(self):
        path = os.path.join(self.dir, "state.npz")
        if not os.path.isfile(path):
            return None
        with np.load(path) as state:
            return {key: state[key] for key in state.files}

    def save_state(self, **arrays):
        with atomic_path(os.path.join(self.dir, "state.npz")) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

    def done_rows(self):
        """Complete rows already written, by channel; a torn last line is dropped."""
        if not os.path.isfile(self.rows_path):
            return {}
        with open(self.rows_path, newline="") as f:
            rows = [row for row in csv.reader(f) if len(row) == len(COLUMNS)]
        complete = {}
        for row in rows:
            try:
                float(row[-1])
            except ValueError:
                continue
            complete[int(row[2])] = row
        with atomic_open(self.rows_path, newline="") as f:
            csv.writer(f).writerows(complete.values())
        return complete

    def append(self, row):
        with open(self.rows_path, "a", newline="") as f:
            csv.writer(f).writerow(row)
            f.flush()
            os.fsync(f.fileno())

    def remove(self):
        shutil.rmtree(self.dir)


def _ablation_values(ablation, net, dataset, batch_size):
    if ablation == "mean":
        return channel_means(net, dataset, batch_size)
    if ablation == "zero":
        return np.zeros(net.model.depth(net.layer))
    raise UserError(f"unknown ablation {ablation!r}; use one of {', '.join(ABLATIONS)}")


def score_layer(net, dataset, channels, out_csv, top_k, ablation="mean", batch_size=32,
                outcomes=reference_outcomes, method="reference", meta=None):
    """Score ``channels`` of ``net.layer`` over ``dataset``; write ``out_csv`` and its summary.

    ``outcomes(net, dataset, channels, values, top_k, batch_size, progress, workdir=...)``
    yields per-channel outcomes: the reference engine by default, or
    :func:`~inception_tools.importance.fast.fast_outcomes`.
    ``meta`` adds entries to the summary dict written beside the CSV, which is returned.
    """
    model = net.model
    if top_k < 1 or top_k > model.num_classes:
        raise UserError(f"--top-k must be between 1 and {model.num_classes}")
    config = _config(model, net.layer, dataset, top_k, ablation, net.pixel_scaling)
    progress = _Progress(out_csv, config)
    started = time.time()
    state = progress.load_state()
    if state is None:
        values = _ablation_values(ablation, net, dataset, batch_size)
        base = baseline(net, dataset, top_k, batch_size)
        state = {"values": values, "correct": base.correct, "logprob": base.logprob,
                 "accuracy": np.array([base.accuracy[f"top{k}"] for k in (1, 5, 10)])}
        progress.save_state(**state)
    done = progress.done_rows()
    todo = [c for c in channels if c not in done]
    if done and todo:
        print(f"resuming: {len([c for c in channels if c in done])} of {len(channels)} channels already scored")
    with tqdm(total=len(todo) * len(dataset), unit="img", desc=f"{method} {net.layer}") as bar:
        for channel, correct, logprob in outcomes(net, dataset, todo, state["values"], top_k, batch_size, bar,
                                                  workdir=progress.dir):
            row = _format_row(model.name, net.layer, channel,
                              summarize(state["correct"], state["logprob"], correct, logprob))
            progress.append(row)
            done[channel] = row
    with atomic_open(out_csv, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(done[c] for c in sorted(channels))
    summary = dict(config, dataset_skipped=getattr(dataset, "skipped", 0), channels=len(channels),
                   accuracy=dict(zip(("top1", "top5", "top10"), map(float, state["accuracy"]))),
                   method=method, seconds=round(time.time() - started, 1), **(meta or {}))
    with atomic_open(meta_path(out_csv)) as f:
        json.dump(summary, f, indent=1)
    progress.remove()
    return summary

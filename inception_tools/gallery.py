"""Static, importance-ranked gallery of one study, readable straight from disk.

``build_gallery(study_dir)`` reads ``importance.csv`` (and ``importance.json``,
``visualizations/``, ``examples/`` when present) and writes ``gallery/``:

- ``index.html``: every channel ranked by importance (rank 1 = largest), with a
  thumbnail of its visualizations (a placeholder when there are none), its
  counts, McNemar p-value and mean change of log-probability; the table sorts
  client-side by importance, p-value or channel (``assets/gallery.js``, no CDN);
- ``channel_<cccc>.html``: one page per channel with its visualizations, its
  strongest and weakest dataset examples and every number of the ablation;
- ``contact_sheet.png``: the visualizations of the ``top_n`` channels in a grid,
  for papers;
- ``thumbs/`` and ``assets/``.

All links are relative, so the study folder can be moved or opened with
``file://``. Files are written atomically and only when their content changes;
thumbnails are remade only when their visualization is newer, so rebuilding is
cheap and idempotent.
"""

import functools
import html
import importlib.resources
import io
import json
import math
import os
import string
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from inception_tools import progress
from inception_tools import layout
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.errors import UserError
from inception_tools.imagefiles import open_rgb
from inception_tools.tables import MEASURES, measure
from inception_tools.importance.reliability import summary_line, warning
from inception_tools.layout import channel_stem, examples_png, visualization_png
from inception_tools.manifest import read_json_object
from inception_tools.tables import parse_finite, parse_int, read_importance

# measure -> (data attribute the page sorts by, the direction that puts the most important first)
SORT_KEYS = {"importance": ("importance", "descending"), "delta-logprob": ("dlogp", "ascending"),
             "kl": ("kl", "descending"), "l1": ("l1", "descending")}
OPTIONAL_COLUMNS = ("mean_kl", "mean_abs_prob_change", "importance_lo", "importance_hi")
THUMB_HEIGHT = 64
SHEET_CELL_WIDTH = 512
SHEET_LABEL_HEIGHT = 24
ASSETS = ("gallery.css", "gallery.js", "placeholder.svg")


@dataclass(frozen=True)
class ChannelImportance:
    """One row of ``importance.csv``; ``rank`` 1 is the most important channel."""

    model: str
    layer: str
    channel: int
    importance: float
    newly_wrong: int
    newly_right: int
    mcnemar_p: float
    mean_delta_logprob: float
    mean_kl: float = math.nan  # NaN in files written before these columns existed
    mean_abs_prob_change: float = math.nan
    importance_lo: float = math.nan
    importance_hi: float = math.nan
    rank: int = 0

    def score(self, name):
        """The value of measure ``name`` (larger = more important), see importance.measures."""
        chosen = MEASURES[name]
        return chosen.sign * getattr(self, chosen.column)


# --- The study's files (docs/CONTRACTS.md, "Outputs of one study") ---------


def read_channels(study_dir, score="importance"):
    """The channels of ``importance.csv``, most important by ``score`` first, with their ranks.

    Read by :func:`inception_tools.tables.read_importance` (ties by channel index).
    """
    measure(score)
    path = layout.importance_csv(study_dir)
    if not os.path.isfile(path):
        raise UserError(f"{path} not found: compute the importance of the study first")
    table = read_importance(path, score)
    table.require("newly_wrong", "newly_right", "mcnemar_p", "mean_delta_logprob")
    numbers = {"importance": table.column("importance", parse_finite),
               "newly_wrong": table.column("newly_wrong", parse_int),
               "newly_right": table.column("newly_right", parse_int),
               "mcnemar_p": table.column("mcnemar_p", parse_finite),
               "mean_delta_logprob": table.column("mean_delta_logprob", parse_finite)}
    for column in OPTIONAL_COLUMNS:  # absent in files written before these columns existed
        numbers[column] = table.column(column, _optional) if column in table.columns else [math.nan] * len(table.rows)
    return [
        ChannelImportance(table.model, table.layer, int(c), rank=rank, **{k: v[i] for k, v in numbers.items()})
        for i, (rank, c) in enumerate(enumerate(table.channels, start=1))
    ]


def _optional(text, what, path, line):
    return parse_finite(text, what, path, line) if text else math.nan


def read_examples(study_dir, layer):
    """``examples.json`` as ``{channel: {...}}``, or ``{}`` when there is none."""
    path = layout.examples_json(layout.examples_dir(study_dir, layer))
    if not os.path.isfile(path):
        return {}
    table = {}
    for key, entry in read_json_object(path, "examples JSON").items():
        if not (isinstance(key, str) and key.isdigit()) or not isinstance(entry, dict):
            raise UserError(f"{path}: entry {key!r} is not a channel number with an object of examples")
        for which in ("top", "bottom"):
            ids, values = entry.get(which, []), entry.get(f"{which}_values", [])
            if not isinstance(ids, list) or not isinstance(values, list) or (values and len(values) != len(ids)):
                raise UserError(f"{path}: channel {key}: {which!r} and {which + '_values'!r} must be lists of one length")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise UserError(f"{path}: channel {key}: {which + '_values'!r} must hold numbers")
        table[int(key)] = entry
    return table


def read_study_summary(study_dir):
    """``importance.json`` (how the importance was measured), or ``{}``."""
    path = layout.summary_json(layout.importance_csv(study_dir))
    if not os.path.isfile(path):
        return {}
    return read_json_object(path, "an importance summary")


# --- Building the site -------------------------------------------------------


def build_gallery(study_dir, top_n=40, columns=2, score="importance", out=None):
    """Write the gallery of ``study_dir`` ranked by measure ``score`` into ``out`` (default
    ``<study_dir>/gallery/``); return the path of its ``index.html``."""
    if top_n < 1:
        raise UserError("top_n must be at least 1")
    channels = read_channels(study_dir, score)
    layer = channels[0].layer
    examples = read_examples(study_dir, layer)
    out = out or layout.gallery_dir(study_dir)
    for name in ASSETS:
        write_if_changed(os.path.join(out, "assets", name), _web_file(name))
    for i, channel in enumerate(progress.iterate(channels, desc="gallery pages", unit="channel")):
        neighbours = (channels[i - 1] if i > 0 else None, channels[i + 1] if i + 1 < len(channels) else None)
        make_thumbnail(visualization_png(study_dir, layer, channel.channel), _thumb_path(out, channel.channel))
        page = render_channel_page(study_dir, out, channel, examples.get(channel.channel), neighbours)
        write_if_changed(os.path.join(out, channel_stem(channel.channel) + ".html"), page.encode())
    sheet = contact_sheet(study_dir, channels[:top_n], columns)
    write_if_changed(os.path.join(out, "contact_sheet.png"), sheet)
    index = os.path.join(out, "index.html")
    write_if_changed(index, render_index(out, channels, read_study_summary(study_dir), top_n, score).encode())
    return index


def write_if_changed(path, data):
    """Atomically write ``data`` (bytes) to ``path`` unless it already holds exactly that."""
    if os.path.isfile(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    with atomic_open(path, "wb") as f:
        f.write(data)


def _web_file(name):
    return (importlib.resources.files("inception_tools") / "web" / "gallery" / name).read_bytes()


@functools.lru_cache(maxsize=None)
def _template(name):
    return string.Template(_web_file(name).decode())


def _thumb_path(out, channel):
    return os.path.join(out, "thumbs", channel_stem(channel) + ".png")


def make_thumbnail(source, thumb):
    """Shrink the visualization strip to ``THUMB_HEIGHT``; drop a stale thumbnail if it is gone."""
    if not os.path.isfile(source):
        if os.path.exists(thumb):
            os.remove(thumb)
        return
    if os.path.isfile(thumb) and os.path.getmtime(thumb) >= os.path.getmtime(source):
        return
    image = open_rgb(source)
    width = max(1, round(image.width * THUMB_HEIGHT / image.height))
    with atomic_path(thumb) as tmp:
        image.resize((width, THUMB_HEIGHT), Image.LANCZOS).save(tmp, format="PNG")


def _link(out, path):
    """A URL relative to the gallery folder, for ``href``/``src``."""
    return html.escape(os.path.relpath(path, out).replace(os.sep, "/"))


def _fmt(value, spec):
    return "n/a" if math.isnan(value) else format(value, spec)


def render_index(out, channels, summary, top_n, score="importance"):
    rows = "\n".join(_index_row(out, c) for c in channels)
    first = channels[0]
    return _template("index.html").substitute(
        title=html.escape(f"{first.model} {first.layer}: channels by {score}"),
        summary=_summary_list({k: v for k, v in summary.items() if k not in ("reliability", "until_reliable")}),
        reliability=reliability_block(summary.get("reliability"), score),
        count=len(channels),
        score=html.escape(MEASURES[score].description),
        top_n=min(top_n, len(channels)),
        rows=rows,
        **{f"sort_{key}": (direction if name == score else "none") for name, (key, direction) in SORT_KEYS.items()},
    )


def reliability_block(report, score):
    """The header's reliability lines (one per measure) and the warning for ``score``, as HTML."""
    if not isinstance(report, dict) or not isinstance(report.get("measures"), dict):
        return '<p class="reliability">Reliability: not recorded (run <code>inception-tools reliability</code>).</p>'
    try:
        lines = "".join(f"<li>{html.escape(summary_line(report, name))}</li>" for name in report["measures"])
        alert = warning(report, score)
    except (KeyError, TypeError, ValueError):
        raise UserError("importance.json: its reliability entry is malformed; rerun inception-tools reliability") \
            from None
    alert = f'<p class="warning" role="alert">{html.escape(alert)}</p>' if alert else ""
    return (f'{alert}<div class="reliability"><p>How far each ranking can be trusted '
            f'({report.get("splits")} seeded split-halves of the images; Spearman-Brown):</p><ul>{lines}</ul></div>')


def _index_row(out, c):
    page = channel_stem(c.channel) + ".html"
    thumb = _thumb_path(out, c.channel)
    src = _link(out, thumb) if os.path.isfile(thumb) else "assets/placeholder.svg"
    return (
        f'<tr data-channel="{c.channel}" data-importance="{c.importance!r}" data-p="{c.mcnemar_p!r}" '
        f'data-dlogp="{c.mean_delta_logprob!r}" data-kl="{c.mean_kl!r}" data-l1="{c.mean_abs_prob_change!r}">'
        f'<td>{c.rank}</td>'
        f'<td><a href="{page}"><img class="thumb" src="{src}" alt="visualizations of channel {c.channel}" '
        f'loading="lazy"></a></td>'
        f'<td><a href="{page}">{c.channel}</a></td>'
        f'<td class="num">{_fmt(c.importance, ".4g")}{_interval(c.importance_lo, c.importance_hi)}</td>'
        f'<td class="num">{c.newly_wrong}</td><td class="num">{c.newly_right}</td>'
        f'<td class="num">{_fmt(c.mcnemar_p, ".3g")}</td>'
        f'<td class="num">{_fmt(c.mean_delta_logprob, "+.4g")}</td>'
        f'<td class="num">{_fmt(c.mean_kl, ".3g")}</td><td class="num">{_fmt(c.mean_abs_prob_change, ".3g")}</td></tr>'
    )


def _interval(lo, hi):
    if math.isnan(lo) or math.isnan(hi):
        return ""
    return f' <span class="interval">[{_fmt(lo, ".3g")}, {_fmt(hi, ".3g")}]</span>'


def _summary_list(summary):
    items = "".join(
        f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(v if isinstance(v, str) else json.dumps(v))}</dd>"
        for k, v in summary.items()
    )
    return f'<dl class="summary">{items}</dl>' if items else ""


def render_channel_page(study_dir, out, c, examples, neighbours):
    previous, following = neighbours
    visualization = visualization_png(study_dir, c.layer, c.channel)
    return _template("channel.html").substitute(
        title=html.escape(f"{c.model} {c.layer} channel {c.channel}"),
        previous=_neighbour_link(previous, "previous"),
        next=_neighbour_link(following, "next"),
        rank=c.rank,
        importance=_fmt(c.importance, ".6g"),
        newly_wrong=c.newly_wrong,
        newly_right=c.newly_right,
        mcnemar_p=_fmt(c.mcnemar_p, ".4g"),
        mean_delta_logprob=_fmt(c.mean_delta_logprob, "+.6g"),
        visualizations=_figure(out, visualization, "Visualizations (4 diverse images)"),
        top=_examples_figure(study_dir, out, c, examples, "top", "Most activating dataset examples"),
        bottom=_examples_figure(study_dir, out, c, examples, "bottom", "Least activating dataset examples"),
    )


def _neighbour_link(c, word):
    if c is None:
        return f'<span class="disabled">{word}</span>'
    return f'<a rel="{word}" href="{channel_stem(c.channel)}.html">{word} (rank {c.rank})</a>'


def _figure(out, path, caption, details=""):
    if not os.path.isfile(path):
        return f'<figure class="missing"><figcaption>{html.escape(caption)}: not computed</figcaption></figure>'
    return (
        f'<figure><img src="{_link(out, path)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}{details}</figcaption></figure>"
    )


def _examples_figure(study_dir, out, c, examples, which, caption):
    details = ""
    if examples and examples.get(which):
        values = examples.get(f"{which}_values") or [math.nan] * len(examples[which])
        items = "".join(
            f"<li>{html.escape(str(image_id))} <span class=\"num\">{_fmt(float(v), '.4g')}</span></li>"
            for image_id, v in zip(examples[which], values)
        )
        details = f"<details><summary>images and activations</summary><ol>{items}</ol></details>"
    return _figure(out, examples_png(study_dir, c.layer, c.channel, which), caption, details)


def contact_sheet(study_dir, channels, columns=2):
    """PNG bytes: each channel's visualization strip under a label, ``columns`` per row."""
    columns = max(1, min(columns, len(channels)))
    strips = [_sheet_strip(study_dir, c) for c in channels]
    cell_height = SHEET_LABEL_HEIGHT + max(s.height for s in strips)
    rows = math.ceil(len(channels) / columns)
    sheet = Image.new("RGB", (columns * SHEET_CELL_WIDTH, rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=16)
    for i, (c, strip) in enumerate(zip(channels, strips)):
        x, y = (i % columns) * SHEET_CELL_WIDTH, (i // columns) * cell_height
        label = f"#{c.rank}  channel {c.channel}  importance {_fmt(c.importance, '.3g')}"
        draw.text((x + 4, y + 3), label, fill="black", font=font)
        sheet.paste(strip, (x + 4, y + SHEET_LABEL_HEIGHT))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


def _sheet_strip(study_dir, c):
    """The visualization strip scaled to the cell width, or a grey box saying it is missing."""
    path = visualization_png(study_dir, c.layer, c.channel)
    width = SHEET_CELL_WIDTH - 8
    if not os.path.isfile(path):
        strip = Image.new("RGB", (width, width // 4), (220, 220, 220))
        ImageDraw.Draw(strip).text((8, 8), "no visualization", fill="black", font=ImageFont.load_default(size=16))
        return strip
    image = open_rgb(path)
    return image.resize((width, max(1, round(image.height * width / image.width))), Image.LANCZOS)

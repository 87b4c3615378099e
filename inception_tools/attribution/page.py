"""The attribution pages: for each image a PNG and an HTML page with every method side by side.

``pages/<stem>.png`` shows the image, then one overlay per method (titled with
the method and the class), ``pages/<stem>.html`` the same overlays as separate
images (``overlays/<stem>/<method>.png``) with the raw maps' file names, and
``index.html`` lists the images with their class.
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from inception_tools.attribution.overlay import blend  # noqa: E402

STYLE = ("body{font-family:sans-serif;margin:1em}figure{display:inline-block;margin:4px;text-align:center}"
         "figure img{width:224px;image-rendering:pixelated}figcaption{font-size:13px}")


def side_by_side(image, maps, methods, title):
    """A matplotlib figure: the image, then each method's overlay."""
    n = len(methods) + 1
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.6))
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=9)
    for ax, method, attribution_map in zip(axes[1:], methods, maps):
        ax.imshow(blend(image, attribution_map))
        ax.set_title(method, fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def image_page(stem, image_id, class_name, methods):
    """HTML of one image's page (in ``pages/``)."""
    figures = [f'<figure><img src="../overlays/{stem}/image.png" alt="image"><figcaption>image</figcaption></figure>']
    figures += [f'<figure><img src="../overlays/{stem}/{m}.png" alt="{m}"><figcaption>{m}<br>'
                f'<a href="../maps/{stem}/{m}.npy">{m}.npy</a></figcaption></figure>' for m in methods]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(image_id)}</title>"
            f"<style>{STYLE}</style></head><body><p><a href='../index.html'>all images</a></p>"
            f"<h1>{html.escape(image_id)}: {html.escape(class_name)}</h1>{''.join(figures)}</body></html>")


def index_page(rows, model_name):
    """HTML of ``index.html``: ``rows`` of (stem, image id, class name)."""
    items = "".join(f'<li><a href="pages/{stem}.html">{html.escape(image_id)}</a>: {html.escape(name)}'
                    f'<br><img src="pages/{stem}.png" style="max-width:100%"></li>' for stem, image_id, name in rows)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>attribution: {html.escape(model_name)}</title>"
            f"<style>{STYLE}</style></head><body><h1>Attribution maps of {html.escape(model_name)}</h1>"
            f"<ul>{items}</ul></body></html>")

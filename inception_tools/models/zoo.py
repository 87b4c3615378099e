"""Download-once cache of Lucid model-zoo files.

Lucid names its files ``gs://modelzoo/...``; they are served over HTTPS from
``https://storage.googleapis.com/modelzoo/...``. The base address can be
replaced with ``INCEPTION_TOOLS_ZOO_URL`` (tests point it at a server on
127.0.0.1). Files land in ``INCEPTION_TOOLS_CACHE`` (default
``~/.cache/inception_tools``), are written to a temporary name and moved into
place only once complete and checked, and are reused without network after.
"""

import os
import urllib.error
import urllib.request


from inception_tools import progress
from inception_tools.atomic import atomic_path
from inception_tools.errors import UserError

DEFAULT_ZOO_URL = "https://storage.googleapis.com"


def cache_dir():
    return os.environ.get("INCEPTION_TOOLS_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "inception_tools"
    )


def zoo_url(gs_path):
    """The HTTP address of a ``gs://bucket/key`` path."""
    if not gs_path.startswith("gs://"):
        raise ValueError(f"not a gs:// path: {gs_path}")
    base = os.environ.get("INCEPTION_TOOLS_ZOO_URL", DEFAULT_ZOO_URL).rstrip("/")
    return f"{base}/{gs_path[len('gs://'):]}"


def cached_path(gs_path):
    return os.path.join(cache_dir(), gs_path[len("gs://"):])


def fetch(gs_path, check=None, timeout=60):
    """Return the local path of ``gs_path``, downloading it once if needed.

    ``check(path)`` runs on the downloaded temporary file before it is moved
    into the cache; it raises UserError for a wrong file, which is then dropped.
    """
    target = cached_path(gs_path)
    if os.path.isfile(target):
        return target
    url = zoo_url(gs_path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(tmp, "wb") as f, progress.bar(
                total=total, unit="B", unit_scale=True, desc=os.path.basename(target), leave=False
            ) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            if total is not None and os.path.getsize(tmp) != total:
                raise UserError(f"download of {url} was cut short ({os.path.getsize(tmp)} of {total} bytes)")
            if check is not None:
                check(tmp)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise UserError(
            f"cannot download {url} ({reason}); give the path of a local copy instead"
        ) from None
    return target

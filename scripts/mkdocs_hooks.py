"""MkDocs hook (mkdocs.yml ``hooks:``): every guide in ``docs/guides/`` appears in the site's nav.

The nav in mkdocs.yml names the guides in reading order; a guide it does not name (one added with a
new stage) is appended to the "Guides" section here, titled by its first heading, so adding
``docs/guides/<topic>.md`` needs no edit of mkdocs.yml and the strict build still checks its links.
"""

import os

GUIDES = "Guides"


def _named(items):
    """Every page path named anywhere in a nav list."""
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            yield from _named(value)
        else:
            yield value


def on_config(config):
    """Append the guides the nav does not name to its "Guides" section (sorted by file name)."""
    nav = config.get("nav") or []
    section = next((item[GUIDES] for item in nav if isinstance(item, dict) and GUIDES in item), None)
    folder = os.path.join(config["docs_dir"], "guides")
    if section is None or not os.path.isdir(folder):
        return config
    named = set(_named(nav))
    for name in sorted(os.listdir(folder)):
        path = f"guides/{name}"
        if name.endswith(".md") and path not in named:
            section.append(path)
    return config

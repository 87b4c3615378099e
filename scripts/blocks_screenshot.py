"""Screenshot a building-blocks page in headless Chromium, hovering one position first.

    python scripts/blocks_screenshot.py PAGE_DIR OUT.png [--layer L] [--cell Y,X] [--overlay TEXT] [--width 1400]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from browser import chromium  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("page_dir")
    parser.add_argument("out")
    parser.add_argument("--layer", default=None, help="layer section to hover in (default: the first)")
    parser.add_argument("--cell", default="7,5", help="position to hover, y,x (default 7,5)")
    parser.add_argument("--overlay", default=None, help="click the overlay button whose label contains TEXT")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    y, x = (int(v) for v in args.cell.split(","))
    with chromium() as browser:
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.goto("file://" + os.path.abspath(os.path.join(args.page_dir, "index.html")))
        section = f"#layer-{args.layer}" if args.layer else "section.layer"
        if args.overlay:
            page.click(f"{section} .modes button:has-text('{args.overlay}')")
        page.hover(f"{section} .cell[data-y='{y}'][data-x='{x}']")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=args.out, full_page=True)


if __name__ == "__main__":
    main()

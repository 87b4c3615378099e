"""Screenshots of the gallery and of the survey, for the README.

Usage: python scripts/screenshot_pages.py STUDY_DIR OUT_DIR

Builds (or refreshes) STUDY_DIR/gallery, then saves with headless Chromium:
``gallery_index.png`` (the top of the ranking), ``gallery_channel.png`` (the
most important channel's page), ``survey_describe.png`` and
``survey_examples.png`` (the first feature of the survey before and after its
description is saved). The survey writes to a throw-away answers file, so the
study's own answers are never touched. Needs /usr/bin/chromium and playwright.
"""

import argparse
import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from browser import chromium  # noqa: E402  (the tests' Chromium launcher)

from inception_tools.gallery import build_gallery, read_channels  # noqa: E402
from inception_tools.layout import channel_stem  # noqa: E402
from inception_tools.survey import make_server  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}


def shoot_gallery(browser, study_dir, out_dir):
    index = build_gallery(study_dir)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"file://{os.path.abspath(index)}")
    page.screenshot(path=os.path.join(out_dir, "gallery_index.png"))
    best = read_channels(study_dir)[0].channel
    page.goto(f"file://{os.path.abspath(os.path.dirname(index))}/{channel_stem(best)}.html")
    page.screenshot(path=os.path.join(out_dir, "gallery_channel.png"), full_page=True)
    page.close()


def shoot_survey(browser, study_dir, out_dir):
    with tempfile.TemporaryDirectory() as scratch:
        server = make_server(study_dir, ["reader"], answers=os.path.join(scratch, "answers.csv"))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(server.url("reader"))
            page.wait_for_selector("#describe:not([hidden]) #question1-1")
            page.check("#question1-3")
            page.fill("#text_question", "curved stroke, loop")
            page.screenshot(path=os.path.join(out_dir, "survey_describe.png"), full_page=True)
            page.click("#save-description")
            page.wait_for_selector("#rate:not([hidden])")
            page.wait_for_function("document.getElementById('examples').naturalWidth > 0")
            page.screenshot(path=os.path.join(out_dir, "survey_examples.png"), full_page=True)
            page.close()
        finally:
            server.shutdown()
            server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_dir")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    with chromium() as browser:
        shoot_gallery(browser, args.study_dir, args.out_dir)
        shoot_survey(browser, args.study_dir, args.out_dir)
    for name in sorted(os.listdir(args.out_dir)):
        print(os.path.join(args.out_dir, name))


if __name__ == "__main__":
    main()

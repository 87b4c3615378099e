"""TensorFlow's C++ start-up lines stay off stderr; everything else still reaches it."""

import subprocess
import sys


def _stderr(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr


def test_the_silenced_descriptor_drops_only_what_is_written_inside():
    err = _stderr("import os\nfrom inception_tools.quiet_tensorflow import stderr_descriptor_silenced\n"
                  "os.write(2, b'before\\n')\nwith stderr_descriptor_silenced():\n    os.write(2, b'inside\\n')\n"
                  "os.write(2, b'after\\n')")
    assert err == "before\nafter\n"


def test_importing_tensorflow_after_the_package_prints_nothing():
    assert _stderr("import inception_tools, tensorflow as tf\nassert int(tf.constant(2) + 1) == 3") == ""


def test_an_error_after_the_import_still_reaches_stderr():
    proc = subprocess.run([sys.executable, "-c", "import inception_tools, tensorflow\nraise SystemExit('boom')"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr == "boom\n"

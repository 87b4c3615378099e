"""inception_tools: graph surgery and feature studies on frozen image classifiers."""

import os

# Before TensorFlow is first imported anywhere in the package: keep its C++ logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

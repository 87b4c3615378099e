"""inception_tools: graph surgery and feature studies on frozen image classifiers."""

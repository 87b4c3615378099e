"""Models: frozen GraphDefs described by Lucid's declarative model classes."""

from inception_tools.models.model import Model, load_model

__all__ = ["Model", "load_model"]

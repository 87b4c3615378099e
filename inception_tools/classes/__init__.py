"""Class-conditional activation vectors (Teague 2024): per-class unit statistics and their comparison."""

from inception_tools.classes.config import ClassesConfig
from inception_tools.classes.result import ClassStats
from inception_tools.classes.stage import class_study

__all__ = ["ClassStats", "ClassesConfig", "class_study"]

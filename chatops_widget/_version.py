"""The package version (one place; ``chatops_widget.__version__`` re-exports it)."""

__version__ = "0.1.0"

"""aestore: async-first storage for adaptive experiments (JSON files and SQL databases).

Example:
    >>> import aestore
    >>> aestore.__version__
    '0.1.0'
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""``python -m aestore``: the same as the ``aestore`` command."""

from aestore.cli import main

raise SystemExit(main())

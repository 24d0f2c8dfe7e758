"""``RunnerRegistry``: the integers the SQL store uses for a user's Runner subclasses."""

from __future__ import annotations

from typing import ClassVar

from aestore.core.runner import Runner
from aestore.storage.sqa_store.type_registry import TypeRegistry

__all__ = ["RunnerRegistry"]


class RunnerRegistry(TypeRegistry):
    """Runner subclass -> the user's integer; the built-in ``Runner`` needs no entry.

    Example:
        >>> class MyRunner(Runner): ...
        >>> RunnerRegistry(class_to_type={MyRunner: 0}).class_for(0) is MyRunner
        True
    """

    base: ClassVar[type] = Runner
    kind: ClassVar[str] = "runner"
    config_argument: ClassVar[str] = "runner_registry"

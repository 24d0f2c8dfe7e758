"""The SQL store: experiments in MySQL/MariaDB, PostgreSQL or SQLite through SQLAlchemy asyncio.

Modules: ``db`` (engine, sessions, tables), ``sqa_classes`` (schema), ``sqa_config``
(registries and enums), ``encoder`` / ``base_decoder`` (objects <-> rows), ``snapshot``
(what is stored, for incremental saves), ``save``, ``load``, ``delete``.

Example:
    >>> # from aestore.storage.sqa_store.db import init_engine_and_session_factory
    >>> # from aestore.storage.sqa_store.save import save_experiment
    >>> # init_engine_and_session_factory(url="sqlite+aiosqlite:///exp.db")
    >>> # await create_all_tables(); await save_experiment(experiment)
"""

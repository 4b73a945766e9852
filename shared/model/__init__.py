"""The bottom of the engine: the typed schema objects (``schema``), column types (``types``), time
handling (``timeutil``) and the expression language (``expr``). Everything else builds on these;
they import nothing of the loader, planner, engine or generators."""

"""Data files read at run time: the DSL's JSON Schema, the report's JSON Schema and the example
schemas. A package only so that ``importlib.resources`` finds them in an installed wheel as in
the repository (``shared.resources``)."""

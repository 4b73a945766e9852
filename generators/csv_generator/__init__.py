"""CSV frontend: ``python -m generators.csv_generator generate --format csv …``.

Thin: ``format.py`` maps ``--option KEY=VALUE`` onto the ``csv_generator`` package (where all CSV
knowledge lives) and registers the format as ``csv``; ``__main__.py`` builds the shared CLI.
"""

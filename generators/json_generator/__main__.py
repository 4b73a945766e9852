"""Entry point of the JSON/NDJSON frontend (thin: flags → shared library → exit code)."""

from generators.json_generator.format import JsonFormat
from shared.cli.common import build_app, main
from shared.formats import FORMATS

app = build_app(FORMATS[JsonFormat.name], formats=("json", "ndjson"))

if __name__ == "__main__":
    main(app)

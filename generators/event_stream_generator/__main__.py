"""Entry point of the event_stream frontend (thin: flags → shared library → exit code)."""

import typer

from generators.event_stream_generator.format import EventStreamFormat
from generators.event_stream_generator.rate import handle_rate
from shared.cli.common import ExtraOption, build_app, main

RATE = ExtraOption("rate", float, typer.Option(
    None, "--rate", help="Emit N events per second to stdout instead of writing files (event tables only)."))

app = build_app(EventStreamFormat(), ("event_stream", "events"), extra_generate_options=[RATE],
                generate_handler=handle_rate)

if __name__ == "__main__":
    main(app)

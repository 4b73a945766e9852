"""``python -m generators.event_stream_generator …``: the datagen command line for event_stream and events (an alias kept
for scripts; ``--format`` defaults to event_stream; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("event_stream", "events")
app = build_app(default_format="event_stream", only=FORMATS)

if __name__ == "__main__":
    main(default_format="event_stream", only=FORMATS)

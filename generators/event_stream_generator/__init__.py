"""event_stream frontend (alias ``events``): ``python -m generators.event_stream_generator generate …``.

Every event table merged into one time-ordered ``events.ndjson`` (late events flagged), the
other tables beside it as ``<table>.ndjson``; ``generate --rate N`` streams the events to stdout
instead. See docs/formats/event_stream.md.
"""

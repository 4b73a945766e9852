"""datagen's shared core: one schema-DSL parser and one vectorised engine for every format."""

__version__ = "0.1.0"
TOOL_NAME = "datagen"

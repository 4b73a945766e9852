"""The built-in blueprints, one file each (``datagen.blueprints`` registers every module here)."""

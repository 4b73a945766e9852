"""``python -m datagen VERB …``: the one command line (what the bootstrap dispatches to)."""

from datagen.cli import main

if __name__ == "__main__":
    main()

"""Format frontends: one thin command-line program per output format, over shared/."""

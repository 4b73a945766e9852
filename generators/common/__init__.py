"""Code that more than one frontend uses (not a frontend: no format registers here), so that no
frontend imports another."""

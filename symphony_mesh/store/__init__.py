"""The node's SQLite store: the only package that writes SQL."""

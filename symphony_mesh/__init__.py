"""symphony-mesh: a gRPC-federated, multi-site control plane that runs Symphony campaigns."""

__all__ = ["__version__"]

# The single source of the version (pyproject reads it from here). A literal, not
# importlib.metadata: looking the installed version up costs every node ~6 MiB of memory.
__version__ = "0.1.0"

"""symphony-mesh: a gRPC-federated, multi-site control plane that runs Symphony campaigns."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("symphony-mesh")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

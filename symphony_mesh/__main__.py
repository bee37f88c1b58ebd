"""`python -m symphony_mesh` runs the same CLI as the `symphony-mesh` script."""

from symphony_mesh.cli.main import main

main()

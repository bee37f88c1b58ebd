"""Generated from proto/symphony/mesh/v1 by tools/gen_protos.py; do not edit."""

"""Generate the committed Python code of `proto/` into `symphony_mesh/api/v1/`, or check for drift.

    python -m tools.gen_protos          # regenerate
    python -m tools.gen_protos --check  # exit 1 when the committed code differs from proto/

protoc names modules after the proto package (`symphony.mesh.v1.common_pb2`); they live in our
package as `symphony_mesh.api.v1.common_pb2`, so the generated imports are rewritten. Only module
paths ending in `_pb2`/`_pb2_grpc` are touched: RPC method paths such as
`/symphony.mesh.v1.CampaignService/Apply` stay as they are.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
THIRD_PARTY = ROOT / "third_party"
PACKAGE_DIR = Path("symphony", "mesh", "v1")
OUT_DIR = ROOT / "symphony_mesh" / "api" / "v1"

_FROM_IMPORT = re.compile(r"^from symphony\.mesh\.v1 import ", re.MULTILINE)
_MODULE_PATH = re.compile(r"\bsymphony\.mesh\.v1\.(\w+_pb2(?:_grpc)?)\b")
_HEADER = '"""Generated from proto/symphony/mesh/v1 by tools/gen_protos.py; do not edit."""\n'


def _protoc_include() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def _rewrite(text: str) -> str:
    text = _FROM_IMPORT.sub("from symphony_mesh.api.v1 import ", text)
    return _MODULE_PATH.sub(r"symphony_mesh.api.v1.\1", text)


def generate(out_dir: Path) -> None:
    """Run protoc with the python, grpc and mypy plugins and lay the result out in `out_dir`."""
    with tempfile.TemporaryDirectory() as raw:
        raw_dir = Path(raw)
        # The mypy plugins are console scripts beside this interpreter (the venv's bin/).
        bin_dir = Path(sys.executable).parent
        sources = (PROTO_DIR / PACKAGE_DIR).glob("*.proto")
        protos = sorted(str(p.relative_to(PROTO_DIR)) for p in sources)
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{THIRD_PARTY}",
            f"-I{_protoc_include()}",
            f"--python_out={raw_dir}",
            f"--grpc_python_out={raw_dir}",
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out={raw_dir}",
            f"--mypy_grpc_out={raw_dir}",
            *protos,
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"protoc failed:\n{done.stderr}")
        out_dir.mkdir(parents=True, exist_ok=True)
        for generated in sorted((raw_dir / PACKAGE_DIR).iterdir()):
            (out_dir / generated.name).write_text(_rewrite(generated.read_text()))
        (out_dir / "__init__.py").write_text(_HEADER)


def check() -> int:
    """0 when `OUT_DIR` equals a fresh generation, else print the differing files and return 1."""
    with tempfile.TemporaryDirectory() as fresh:
        fresh_dir = Path(fresh)
        generate(fresh_dir)
        expected = {p.name for p in fresh_dir.iterdir()}
        actual = {p.name for p in OUT_DIR.iterdir() if p.is_file()} if OUT_DIR.exists() else set()
        drift = sorted(expected ^ actual)
        drift += [
            name
            for name in sorted(expected & actual)
            if not filecmp.cmp(fresh_dir / name, OUT_DIR / name, shallow=False)
        ]
    if drift:
        print(
            "generated code drifted from proto/ (run `make proto` and commit): " + ", ".join(drift),
            file=sys.stderr,
        )
        return 1
    print("generated code matches proto/")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when the committed code drifted")
    args = parser.parse_args()
    if args.check:
        return check()
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    generate(OUT_DIR)
    print(f"generated {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

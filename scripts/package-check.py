"""The crates meant for others package as they would be published (make test):

    scripts/package-check.py

`cargo package --no-verify --offline` for apisig, apisig-ffi, apisig-redis, apisig-store and apisig-http
builds each .crate (checking the manifest: versions on path dependencies, metadata) in about a
second; the full verification (`cargo package` without --no-verify, as `cargo publish` runs it)
compiles every crate and its dependencies from scratch, minutes, so it is run by hand before a
release. Then each .crate is opened and checked: it holds its manifest, sources and the files
its users need (the C header for apisig-ffi, the README the docs include) and both licence
texts (LICENSE-MIT and LICENSE-APACHE, the same as the repository root's), states a
rust-version and docs.rs metadata, has no path-only dependency, is under a size bound, and each
of its Cargo features is documented in the crate's lib docs. A placeholder `repository` URL
(the workspace's, until the project has a public home) is printed as a warning: publishing with
it would point users nowhere."""

import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# crate -> (directory, files its package must carry besides Cargo.toml and src/lib.rs)
CRATES = {
    "apisig": ("core", ["README.md", "examples/demo.rs"]),
    "apisig-ffi": ("ffi", ["include/apisig.h"]),
    "apisig-redis": ("redis", []),
    "apisig-store": ("store", []),
    "apisig-http": (
        "http",
        ["README.md", "examples/interop.rs", "tests/common/mod.rs"],
    ),
}
MAX_BYTES = 256 * 1024  # compressed; today 11-110 KiB
# Every package carries both licences of `license = "MIT OR Apache-2.0"`, byte for byte the root's.
LICENCES = ["LICENSE-MIT", "LICENSE-APACHE"]
# A repository URL under a reserved name (RFC 6761) is a placeholder, not a home.
PLACEHOLDER_HOSTS = (".invalid/", ".example/", "example.com/", "example.org/")


def main() -> int:
    args = ["cargo", "package", "--no-verify", "--offline", "--allow-dirty", "-q"]
    for name in CRATES:
        args += ["-p", name]
    out = subprocess.run(args, check=False, cwd=ROOT, capture_output=True, text=True)
    # Leaving the repository's tests and benchmarks out of a package is deliberate (they read
    # the workspace's shared vectors and start servers); any other warning is not.
    warnings = [
        line
        for line in out.stderr.splitlines()
        if line.startswith("warning")
        and "is not included in the published package" not in line
    ]
    if out.returncode != 0 or warnings:
        print(out.stderr, file=sys.stderr)
        return 1
    version = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"][
        "version"
    ]
    placeholders: dict[str, list[str]] = {}
    for name, (directory, needed) in CRATES.items():
        crate = ROOT / "target" / "package" / f"{name}-{version}.crate"
        with tarfile.open(crate) as tar:
            prefix = f"{name}-{version}/"
            files = {
                m.name.removeprefix(prefix): m for m in tar.getmembers() if m.isfile()
            }
            missing = sorted({"Cargo.toml", "src/lib.rs", *needed, *LICENCES} - set(files))
            assert not missing, f"{crate.name} lacks {missing}"
            empty = sorted(f for f in needed if files[f].size == 0)
            assert not empty, f"{crate.name}: empty {empty}"
            for licence in LICENCES:
                packed = tar.extractfile(files[licence])
                assert packed is not None
                assert packed.read() == (ROOT / licence).read_bytes(), (
                    f"{crate.name}: {licence} differs from the repository's"
                )
            text = tar.extractfile(files["Cargo.toml"])
            assert text is not None
            manifest = tomllib.loads(text.read().decode())
        package = manifest["package"]
        assert package.get("rust-version"), f"{name} states no rust-version"
        assert "rs" in package.get("metadata", {}).get("docs", {}), (
            f"{name} has no [package.metadata.docs.rs]"
        )
        deps = manifest.get("dependencies", {}).values()
        assert all("path" not in d for d in deps if isinstance(d, dict)), (
            f"{name} has a path dependency"
        )
        size = crate.stat().st_size
        assert size < MAX_BYTES, f"{crate.name} is {size} bytes"
        lib = (ROOT / directory / "src" / "lib.rs").read_text()
        docs = "\n".join(line for line in lib.splitlines() if line.startswith("//!"))
        undocumented = [
            f
            for f in manifest.get("features", {})
            if f != "default" and f"`{f}`" not in docs
        ]
        assert "# Cargo features" in docs and not undocumented, (
            f"{name}: document features {undocumented}"
        )
        print(f"package-check: {crate.name}: {len(files)} files, {size} bytes")
        repository = package.get("repository", "")
        if not repository or any(h in repository + "/" for h in PLACEHOLDER_HOSTS):
            placeholders.setdefault(repository, []).append(name)
    for repository, names in placeholders.items():
        print(
            f"package-check: WARNING: the repository URL of {', '.join(names)} is "
            f"{repository!r}, a placeholder: set the real one (Cargo.toml, "
            "[workspace.package] repository) before publishing",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Prints an image's size as a registry stores it and as it is unpacked:
#
#   deploy/container/size.sh IMAGE        (podman; CONTAINER_ENGINE=docker too)
#   compressed_bytes=12853921 uncompressed_bytes=29237248 layers=1
#
# compressed_bytes: what a registry stores and a pull downloads, the gzip
#   layer blobs plus the config and the manifest. With podman these are the
#   files `podman push --compress IMAGE dir:DIR` writes, the same compression
#   a push to a registry does. With docker each layer of `docker save` is
#   compressed with gzip -6 (what `docker push` uses).
# uncompressed_bytes: the sum of the uncompressed layer tars
#   (`save --format oci-archive`), what the image takes once pulled.
set -euo pipefail

image="${1:?usage: size.sh IMAGE}"
engine="${CONTAINER_ENGINE:-podman}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "$engine" = podman ]; then
  podman push --quiet --compress "$image" "dir:$tmp/pushed"
  podman image save --quiet --format oci-archive -o "$tmp/image.tar" "$image"
else
  "$engine" image save -o "$tmp/image.tar" "$image"
fi
mkdir "$tmp/x"
tar -xf "$tmp/image.tar" -C "$tmp/x"

python3 - "$tmp" <<'EOF'
import gzip, json, os, sys

tmp = sys.argv[1]
root = os.path.join(tmp, "x")

def read_json(path):
    with open(path, "rb") as f:
        return json.load(f)

def blob(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(root, "blobs", algo, hexd)

if os.path.exists(os.path.join(root, "index.json")):  # OCI layout
    index = read_json(os.path.join(root, "index.json"))
    desc = index["manifests"][0]
    manifest = read_json(blob(desc["digest"]))
    meta = desc["size"] + manifest["config"]["size"]
    layers = [blob(l["digest"]) for l in manifest["layers"]]
else:  # docker save layout
    manifest = read_json(os.path.join(root, "manifest.json"))[0]
    meta = os.path.getsize(os.path.join(root, manifest["Config"]))
    layers = [os.path.join(root, l) for l in manifest["Layers"]]

uncompressed = 0
compressed = meta
for path in layers:
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        compressed += len(data)
        data = gzip.decompress(data)
    else:
        compressed += len(gzip.compress(data, compresslevel=6, mtime=0))
    uncompressed += len(data)

pushed = os.path.join(tmp, "pushed")
if os.path.isdir(pushed):
    m = read_json(os.path.join(pushed, "manifest.json"))
    compressed = (os.path.getsize(os.path.join(pushed, "manifest.json")) +
                  m["config"]["size"] + sum(l["size"] for l in m["layers"]))
print(f"compressed_bytes={compressed} uncompressed_bytes={uncompressed} "
      f"layers={len(layers)}")
EOF

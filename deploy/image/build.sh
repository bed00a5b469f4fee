#!/usr/bin/env bash
# Builds kubestate's OCI image without pulling any base image: a fully static binary copied
# into an empty (scratch) image with buildah, with the host's CA bundle and a passwd/group
# naming nobody (what distroless/static adds), configured like the Dockerfile (user 65534,
# entrypoint /kubestate --port=8080 --telemetry-port=8081, ports 8080 and 8081).
#
#   deploy/image/build.sh [IMAGE]            # default localhost/kubestate:v<version>
#
# Environment:
#   KUBESTATE_BIN      use this static binary instead of building one
#   PROFILE            cargo profile for the build (release)
#   CARGO_TARGET_DIR   where cargo builds (target)
#   BUILDAH_STORAGE    buildah storage driver (vfs: works without overlay or fuse)
#   OCI_ARCHIVE        also write the image to this oci-archive file
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
image=${1:-localhost/kubestate:v$version}
profile=${PROFILE:-release}
storage=${BUILDAH_STORAGE:-vfs}
host=$(rustc -vV | sed -n 's/^host: //p')

if [ -z "${KUBESTATE_BIN:-}" ]; then
  # musl when its standard library is installed, else glibc linked statically: either way
  # the binary needs nothing from the image.
  if rustup target list --installed 2>/dev/null | grep -qx "${host%-gnu}-musl" \
     && command -v musl-gcc >/dev/null 2>&1; then
    target=${host%-gnu}-musl
    cargo build --locked --profile "$profile" --target "$target" -p kubestate
  else
    target=$host
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
      cargo build --locked --profile "$profile" --target "$target" -p kubestate
  fi
  dir=$profile; [ "$profile" = dev ] && dir=debug
  KUBESTATE_BIN=${CARGO_TARGET_DIR:-target}/$target/$dir/kubestate
fi

if ! file -L "$KUBESTATE_BIN" 2>/dev/null | grep -Eq 'statically linked|static-pie linked'; then
  echo "error: $KUBESTATE_BIN is not statically linked; an empty image cannot run it" >&2
  exit 1
fi

# Debug information stays out of the image.
work=$(mktemp -d)
cp "$KUBESTATE_BIN" "$work/kubestate"
if command -v strip >/dev/null 2>&1; then strip "$work/kubestate"; fi

# What distroless/static provides besides the binary: CA certificates (kubestate's client
# loads the system roots, and refuses to start without any) and the nobody user and group.
cacerts=${CA_CERTIFICATES:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -s "$cacerts" ]; then
  echo "error: no CA bundle at $cacerts (apt-get install ca-certificates, or set CA_CERTIFICATES)" >&2
  exit 1
fi
mkdir -p "$work/etc/ssl/certs"
cp "$cacerts" "$work/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$work/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/etc/group"

ctr=$(buildah --storage-driver "$storage" from scratch)
trap 'buildah --storage-driver "$storage" rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
buildah --storage-driver "$storage" copy --chmod 0755 "$ctr" "$work/kubestate" /kubestate
buildah --storage-driver "$storage" copy "$ctr" "$work/etc" /etc
buildah --storage-driver "$storage" config \
  --user 65534:65534 \
  --entrypoint '["/kubestate", "--port=8080", "--telemetry-port=8081"]' \
  --cmd '' \
  --port 8080/tcp --port 8081/tcp \
  --label org.opencontainers.image.title=kubestate \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.description="Kubernetes object state as Prometheus metrics (kube-state-metrics compatible)" \
  "$ctr"
buildah --storage-driver "$storage" commit --rm "$ctr" "$image" >/dev/null
trap - EXIT
rm -rf "$work"
if [ -n "${OCI_ARCHIVE:-}" ]; then
  buildah --storage-driver "$storage" push "$image" "oci-archive:$OCI_ARCHIVE:$image" >/dev/null
fi
echo "$image"

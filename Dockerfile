# kubestate's image: one static binary on an empty base, run as nobody (65534), with the same
# entrypoint flags and ports as the kube-state-metrics image, so manifests and charts written
# for it work unchanged.
#
#   docker build -t kubestate:v0.1.0 .
#
# Without a registry to pull the base images from, deploy/image/build.sh builds the same
# image with buildah from scratch.

# Build: a fully static binary (musl), stripped.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kubestate \
 && strip target/release/kubestate \
 && cp target/release/kubestate /kubestate

# Runtime: distroless static (CA certificates, /etc/passwd with nobody, no shell).
FROM gcr.io/distroless/static-debian13
COPY --from=build /kubestate /kubestate
USER 65534:65534
EXPOSE 8080 8081
ENTRYPOINT ["/kubestate", "--port=8080", "--telemetry-port=8081"]

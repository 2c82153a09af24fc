# Shipgate's CI job image (GitLab and any runner that starts jobs through a
# shell): the static shipgate binary, a static busybox for /bin/sh, a
# non-root user with a writable HOME and cache directory, and no ENTRYPOINT.
#
# `make image` builds the same image without a Docker engine (tools/mkimage,
# go-containerregistry) into dist/shipgate-image.docker.tar and an OCI layout.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -tags gore2regex -trimpath -ldflags '-s -w' -o /out/shipgate ./cmd/shipgate

FROM debian:bookworm-slim AS busybox
RUN apt-get update && apt-get install -y --no-install-recommends busybox-static && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=busybox /bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY --from=build /out/shipgate /usr/local/bin/shipgate
COPY --chmod=0644 <<'PASSWD' /etc/passwd
root:x:0:0:root:/root:/bin/sh
shipgate:x:10001:10001:shipgate:/home/shipgate:/bin/sh
PASSWD
COPY --chmod=0644 <<'GROUP' /etc/group
root:x:0:
shipgate:x:10001:
GROUP
RUN mkdir -p /tmp /home/shipgate/.cache/shipgate && chmod 1777 /tmp && chown -R 10001:10001 /home/shipgate
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/shipgate XDG_CACHE_HOME=/home/shipgate/.cache
WORKDIR /home/shipgate
USER 10001:10001
HEALTHCHECK NONE
CMD ["/bin/sh"]

# Safe look-alikes: none of these lines should produce a finding.
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build
# RUN curl https://example.com/install.sh | sh   (a comment, not a command)
RUN echo "curl https://example.com/install.sh | sh" > /notes.txt
RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \
 && echo "0123  /tmp/install.sh" | sha256sum -c - \
 && sh /tmp/install.sh
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache git
RUN pip install --no-cache-dir requests
RUN --mount=type=cache,target=/root/.cache/pip pip install flask
RUN echo sudo is not used here
ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/tool.tar.gz /tmp/
ADD ./local.tar.gz /opt/
ENV PASSWORD_FILE=/run/secrets/db
ENV API_TOKEN=${API_TOKEN}
ARG NPM_TOKEN
ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D
EXPOSE 8022 2222
FROM scratch AS empty
FROM build
COPY --from=build /app /app
USER 65532:65532
HEALTHCHECK CMD ["/app", "-health"]

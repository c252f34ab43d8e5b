# Dockerfile - urbac's server in a container, built from Debian packages only:
# the first stage builds the Debian package (debian/, as `dpkg-buildpackage -us -uc
# -b` does on a Debian 12 machine, README "Installing"), the second installs that
# package into debian:12-slim, which pulls in exactly its runtime libraries, and
# runs `urbac serve` as a non-root user with the store in a volume.
#   docker build -t urbac .
#   docker run -d -p 8080:8080 -v urbac:/var/lib/urbac \
#     -v /etc/urbac/preshared-keys:/run/secrets/urbac-preshared-keys:ro urbac
# (tests/install/docker.sh checks it without Docker: docs/operations.md says how far.)
FROM debian:12 AS build
WORKDIR /src/urbac
COPY debian/control debian/control
RUN apt-get update \
 && apt-get install -y --no-install-recommends dpkg-dev debhelper \
 && apt-get build-dep -y --no-install-recommends ./ \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN DEB_BUILD_OPTIONS="nocheck noddebs" dpkg-buildpackage -us -uc -b \
 && mkdir /debs && mv ../urbac_*.deb /debs/

FROM debian:12-slim
COPY --from=build /debs/ /tmp/debs/
COPY contrib/docker/entrypoint.sh /usr/local/bin/urbac-entrypoint
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/debs/urbac_*.deb curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/debs \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/urbac --create-home urbac
USER urbac
ENV URBAC_DB=/var/lib/urbac/urbac.db URBAC_LISTEN=0.0.0.0:8080 \
    URBAC_PRESHARED_KEY_FILE=/run/secrets/urbac-preshared-keys
VOLUME ["/var/lib/urbac"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/urbac-entrypoint"]

# Rapport's container image: `rapport` as the entry point, `run` by default.
#
#     docker build -t rapport .
#     docker run --rm -p 3000:3000 --env-file deploy/.env rapport
#
# BASE_IMAGE is any image with python3 (3.11+) and its venv module; the default comes from
# Docker Hub. Where Docker Hub is out of reach, make one from Debian's packages with
# deploy/debian-base.sh and pass it: --build-arg BASE_IMAGE=rapport-base:bookworm.
# Build and run stages use the same base, so the virtualenv's interpreter is where it expects.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# Pass-through for pip where the network needs it (an index mirror, a proxy's CA bundle).
ARG PIP_INDEX_URL
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/rapport
# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
COPY pyproject.toml /src/pyproject.toml
RUN python3 -c "import tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /src/requirements.txt \
 && /opt/rapport/bin/pip install -r /src/requirements.txt
COPY README.md /src/README.md
COPY bot /src/bot
COPY core /src/core
COPY adapters /src/adapters
COPY migrations /src/migrations
RUN /opt/rapport/bin/pip install --no-deps /src \
 && /opt/rapport/bin/rapport --help >/dev/null

FROM ${BASE_IMAGE}
RUN (getent group rapport || groupadd --system --gid 10001 rapport) \
 && useradd --system --uid 10001 --gid rapport --home-dir /var/lib/rapport --create-home --shell /usr/sbin/nologin rapport
COPY --from=build /opt/rapport /opt/rapport
ENV PATH=/opt/rapport/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAPPORT_HTTP_HOST=0.0.0.0 \
    RAPPORT_HTTP_PORT=3000
WORKDIR /var/lib/rapport
USER rapport
EXPOSE 3000
# Alive = /healthz answers. (Readiness for traffic is /readyz, which the load balancer asks.)
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/opt/rapport/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('RAPPORT_HTTP_PORT', '3000'), timeout=2)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["rapport"]
CMD ["run"]

# One image for every ums-find process: `serve` (default), `consume`, `replay`, `migrate`.
# The base is pinned by digest (both stages) so that a rebuild gets the same system. To move
# to a newer python:3.11-slim: `docker buildx imagetools inspect python:3.11-slim` (or
# `crane digest python:3.11-slim`) prints the index digest; put it in both FROM lines.
# Build stage: a virtualenv with the pinned dependencies, then the project itself.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7 AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.txt ./
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
COPY pyproject.toml ./
COPY ums_find ./ums_find
COPY consumers ./consumers
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps .

# Runtime stage: the virtualenv alone, run by an unprivileged user.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
RUN groupadd --system --gid 10001 ums \
    && useradd --system --uid 10001 --gid ums --no-create-home --home-dir /tmp --shell /usr/sbin/nologin ums
COPY --from=build /opt/venv /opt/venv
# The root filesystem may be read-only: no bytecode writes (pip compiled it at install time).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UMS_HTTP_HOST=0.0.0.0 \
    UMS_HTTP_PORT=8080
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["ums-find"]
CMD ["serve"]

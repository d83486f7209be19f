# Faros: one image for every process (faros worker | beat | watch | run) and for Flower
# (`celery --app=faros.tasks.app flower`). tests/integration/test_image.py runs this file's
# build-stage commands on the host and hadolint on the file, so keep them plain.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md constraints.txt celeryconfig.py ./
COPY faros ./faros
# Dependencies as wheels only, under the pinned constraints: nothing may need a compiler,
# and the final stage has none.
RUN /opt/venv/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -c constraints.txt /wheels/faros-*.whl

FROM python:3.11-slim-bookworm
# git and ssh run the fetches; nothing else from Debian is needed at run time. The Helm
# chart runs as uid/gid 65532.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.* openssh-client=1:9.2p1-* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 faros \
    && useradd --uid 65532 --gid 65532 --home-dir /home/faros --create-home \
        --shell /usr/sbin/nologin faros
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
WORKDIR /home/faros
ENTRYPOINT ["faros"]
CMD ["run"]

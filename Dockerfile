# Faros: one image for every process (faros worker | beat | watch | run).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt celeryconfig.py ./
COPY faros ./faros
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim-bookworm
# git and ssh run the fetches; nothing else from Debian is needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.* openssh-client=1:9.2* \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels faros && rm -rf /wheels \
    && useradd --uid 65532 --home-dir /home/faros --create-home faros
ENV PYTHONUNBUFFERED=1
USER 65532:65532
WORKDIR /home/faros
ENTRYPOINT ["faros"]
CMD ["run"]

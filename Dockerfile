# syntax=docker/dockerfile:1
# One image for every Sluice job; the job is chosen by the arguments:
#   docker run sluice:0.1.0 run reviews-enrichment
# plus, from the same build, `--target cdc` (sluice-cdc): that image with a JRE and the compiled
# reviews CDC reader, for the sidecar in the Cassandra pods.
# The build stage mirrors stack/setup.mjs (k3s/dockerfile.test.ts keeps them in step): the
# Debian libraries librdkafka builds against, `npm install` with CKJS_LINKING=dynamic (the
# native Kafka client, @confluentinc/kafka-javascript, built from source against them), the
# TypeScript build and the SQL/CQL assets. Probes are Kubernetes', on /readyz and /healthz:
# no HEALTHCHECK here.

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ make python3 libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV CKJS_LINKING=dynamic
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: see stack/setup.mjs (the lock cannot list every platform package).
RUN npm install --no-audit --no-fund \
 && node -e "require('@confluentinc/kafka-javascript')"
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY stack ./stack
COPY avro ./avro
COPY operators ./operators
COPY connectors ./connectors
COPY runtime ./runtime
COPY pipelines ./pipelines
COPY bench ./bench
COPY dashboards ./dashboards
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && node stack/copy-assets.mjs \
 && npm prune --omit=dev --no-audit --no-fund

# The reviews CDC relay's reader (pipelines/reviews/cdc/java) runs on a JVM against
# cassandra-all: resolve that classpath with Maven and compile the reader now, into
# /opt/sluice, so the `cdc` image needs only a JRE (buildReader finds both in its cache).
FROM node:20-bookworm-slim AS cdc-reader
RUN apt-get update \
 && mkdir -p /usr/share/man/man1 \
 && apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")" /opt/java
WORKDIR /app
ENV SLUICE_CACHE_DIR=/opt/sluice/cache \
    SLUICE_JAVA_HOME=/opt/java \
    MAVEN_OPTS=-Dmaven.repo.local=/opt/sluice/m2
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
COPY stack/cassandra ./stack/cassandra
COPY pipelines/reviews/cdc/java ./pipelines/reviews/cdc/java
RUN node -e "import('./dist/pipelines/reviews/cdc/reader-build.js').then((m) => m.buildReader('/opt/java'))" \
 && chmod -R a+rX /opt/sluice

FROM node:20-bookworm-slim AS runtime-base
# The shared libraries the dynamically linked librdkafka loads (runtime halves of the -dev
# packages above).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 zlib1g libzstd1 libsasl2-2 liblz4-1 libcurl4 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 sluice \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin sluice \
 && mkdir -p /var/lib/sluice && chown 10001:10001 /var/lib/sluice
WORKDIR /app
ENV SLUICE_STATE_DIR=/var/lib/sluice \
    SLUICE_HTTP_PORT=9464
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/avro ./avro
# stack/ holds the Maven poms the reviews CDC reader resolves its cassandra-all classpath from.
COPY --from=build /app/stack ./stack
# `docker build --target cdc -t sluice-cdc:0.1.0 .`: the same image plus a JRE and the
# compiled CDC reader, for the reviews-cdc sidecar in the Cassandra pods (k3s/base/infra).
FROM runtime-base AS cdc
COPY --from=cdc-reader /opt/sluice /opt/sluice
COPY --from=cdc-reader /app/pipelines/reviews/cdc/java ./pipelines/reviews/cdc/java
RUN apt-get update \
 && mkdir -p /usr/share/man/man1 \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java
ENV SLUICE_CACHE_DIR=/opt/sluice/cache \
    SLUICE_JAVA_HOME=/opt/java
USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["node", "bin/sluice.mjs"]
CMD ["run", "reviews-cdc"]

# The default target (built last): every other job.
FROM runtime-base AS runtime
USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["node", "bin/sluice.mjs"]
CMD ["run", "demo-count"]

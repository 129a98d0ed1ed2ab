# syntax=docker/dockerfile:1
# One image for every Sluice job; the job is chosen by the arguments:
#   docker run sluice:0.1.0 run reviews-enrichment
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

FROM node:20-bookworm-slim AS runtime
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
USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["node", "bin/sluice.mjs"]
CMD ["run", "demo-count"]

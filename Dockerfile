# Node 22 LTS. Where Docker Hub cannot be reached, build a local stand-in first
# (docker/base-image.sh) and pass it: --build-arg NODE_IMAGE=newsroom-node:22
ARG NODE_IMAGE=node:22-bookworm-slim

# Build: compile TypeScript and the native SQLite binding, then drop dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: production dependencies and compiled code only, as uid 1000 (the image's `node`
# user). Writes go to /app/data only, so a read-only root filesystem works.
# NODE_OPTIONS bounds V8's heap: without it V8 grows its heap lazily up to a size taken
# from the machine's (or container's) memory; the compose files give workers 128 MB.
# MALLOC_ARENA_MAX=2: glibc keeps an arena per thread (libuv's, V8's), each holding on to
# memory it freed. Together: a worker's peak RSS under 200 MB at 100,000 subscribers
# (README: "Performance", fan-out).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=192 \
    MALLOC_ARENA_MAX=2 \
    PORT=3000 \
    HEALTH_PORT=3001 \
    DATABASE_URL=sqlite:/app/data/newsroom.db \
    STORAGE_DIR=/app/data/files \
    OUTBOX_DIR=/app/data/outbox
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY templates ./templates
COPY locales ./locales
COPY static ./static
RUN mkdir -p /app/data && chown 1000:1000 /app/data
USER 1000:1000
VOLUME ["/app/data"]
EXPOSE 3000
# Every role (web, worker or all) answers GET /healthz on HEALTH_PORT, outside the
# request log; the check asks it there, so a worker-only container is healthy too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/healthcheck.js"]
# Arguments after the image name go to the service: docker run IMAGE --role=worker
# (or -e ROLE=worker). Needs ADMIN_TOKEN, SIGNING_SECRET and PUBLIC_URL (or *_FILE).
ENTRYPOINT ["node", "dist/main.js"]

# syntax=docker/dockerfile:1
# Raft3D node image. Build: docker build -t raft3d:dev .
# Stage 1 installs exactly the lockfile (npm ci), compiles TypeScript to dist/ and drops the
# dev dependencies; stage 2 is a slim Node LTS runtime running as uid 10001 with nothing to
# write outside the /data volume (the chart mounts the root filesystem read-only).

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    RAFT3D_DATA_DIR=/data \
    RAFT3D_API_LISTEN=0.0.0.0:8080 \
    RAFT3D_PEER_LISTEN=0.0.0.0:9090
WORKDIR /app
RUN groupadd --system --gid 10001 raft3d \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin raft3d \
 && mkdir -p /data \
 && chown 10001:10001 /data
# Code and dependencies stay owned by root: the node process cannot modify them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080 9090
# Exec form: node is PID 1 and receives SIGTERM itself (it hands leadership over, then exits).
ENTRYPOINT ["node", "dist/main.js"]

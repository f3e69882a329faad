# order-mirror image: compiled service, production dependencies only, run as the unprivileged
# `node` user. Migrations are applied by the service itself at start (under an advisory lock, so
# several replicas may start at once). Build: `docker build --build-arg BUILD_COMMIT=$(git rev-parse --short=12 HEAD) -t order-mirror .`

FROM node:20-bookworm-slim AS base
WORKDIR /app
# The project's install-script policy (`allowScripts` in package.json: approved packages run their
# scripts, denied ones never do) is understood by npm 11; the npm 10 bundled with Node 20 ignores
# it and runs every script. Use the npm the lockfile is maintained with.
RUN --mount=type=cache,target=/root/.npm npm install --global --no-audit --no-fund npm@11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    CHECKPOINT_DISABLE=1

# Production dependencies. `postinstall` applies patches/ (the pg driver adapter fix migrations
# and queries depend on) and runs `prisma generate`, which reads prisma/ and prisma.config.ts.
# Optional dependencies are only the embedded PostgreSQL binaries (60 MB) and pg's Cloudflare
# socket: the image always runs against DATABASE_URL, and without one it should fail at start
# rather than keep orders in a database that disappears with the container.
FROM base AS deps
COPY package.json package-lock.json prisma.config.ts ./
COPY patches ./patches
COPY prisma ./prisma
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --no-audit --no-fund

# Compile. The generated Prisma client (src/generated, written by postinstall) is compiled into
# dist/generated with the rest, so the runtime needs only @prisma/client's runtime from node_modules.
FROM base AS build
COPY package.json package-lock.json prisma.config.ts ./
COPY patches ./patches
COPY prisma ./prisma
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
# The image has no .git: order_mirror_build_info reports the commit passed here, or "unknown".
ARG BUILD_COMMIT=
ENV NODE_ENV=production \
    PORT=3000 \
    BUILD_COMMIT=${BUILD_COMMIT}
# Everything stays owned by root and read-only to the service: with DATABASE_URL set it writes
# nothing to disk. package.json is needed at run time for `"type": "module"`; prisma/migrations is
# read at start (dist/db/migrator.js resolves ../../prisma/migrations).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY prisma ./prisma
USER node
EXPOSE 3000
# Readiness, not liveness: the database answers and every migration is applied. Slim images have
# no curl, so Node's own fetch asks; the start period covers migrating a fresh database.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]

# Safeguard Desk: the bot as a container (docs/deploy.md).
#
#   docker build -t safeguard-desk .
#   az acr build --registry <registry> --image safeguard-desk:<tag> .   (builds in Azure, no local Docker)
#
# Two stages: `build` compiles src/ with the dev dependencies; the final image
# holds the production dependencies, the compiled dist/ and the files the
# running service reads (cards/, migrations/, the demo directory), and runs as
# the unprivileged `node` user. Migrations run when the service starts (under a
# PostgreSQL advisory lock, so instances starting together do not race).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project's `prepare` compiles src/, which is not here yet;
# no dependency needs its install script to compile.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3978 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` compiles src/ with the dev dependencies: the image gets dist/ from
# the build stage instead. Dependencies' own install scripts still run.
RUN npm pkg delete scripts.prepare \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY cards ./cards
COPY migrations ./migrations
# Read only when DIRECTORY_FILE is unset, which production (with Bot Framework
# authentication) refuses; kept so the image can be tried on its own.
COPY src/demo/directory.json ./src/demo/directory.json
# The embedded database's folder (used only without DATABASE_URL) must be writable.
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3978
# SIGTERM: stop taking requests, finish the turns in flight, stop delivery, close the database.
STOPSIGNAL SIGTERM
# Slim images have no curl: ask Node. /healthz answers 200 when the database answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3978)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]

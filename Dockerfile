# One image for both processes: `node dist/apps/api/...` or `node dist/apps/mail-worker/...`.
# Node 26, the active LTS line (Node 20 is end of life); the code also runs on Node >= 20 (engines).
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:26-trixie-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/package.json ./
USER node
# The API (PORT) by default; the worker with `node --max-semi-space-size=4 --max-old-space-size=512 dist/apps/mail-worker/apps/mail-worker/src/main.js`
# (WORKER_PORT: health and metrics), migrations with `node dist/apps/api/apps/api/src/migrate.js`.
# OPS_PORT (3002) is the API's operators' port (metrics, docs, dashboard): never publish it publicly.
EXPOSE 3000 3001 3002
# The flags are each app's V8 heap settings (scripts/node-options.js says why).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=512", "dist/apps/api/apps/api/src/main.js"]

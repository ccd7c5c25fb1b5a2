# One image for the API and the worker; docker-compose.yml picks the entry point.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY packages packages
COPY apps apps
COPY scripts scripts
# Read at runtime (apps/api/src/runtime-files.ts; test/dockerfile.test.ts checks the image has them all).
COPY policy policy
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV BESKARYUM_ADDR=0.0.0.0:5200 BESKARYUM_DATADIR=/data
VOLUME /data
EXPOSE 5200
CMD ["node", "apps/api/dist/main.js"]

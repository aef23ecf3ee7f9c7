# erpstream worker image (used by compose/docker-compose.yml).
FROM node:24-slim AS build
# the commit GET / reports (dist/build-info.json); the build context has no .git
ARG ERPSTREAM_COMMIT=unknown
ENV ERPSTREAM_COMMIT=$ERPSTREAM_COMMIT
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8083
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker", "start"]

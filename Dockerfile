# Release build, then a slim runtime image. SQLite, libpq and OpenSSL are compiled in.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin registry

FROM debian:bookworm-slim
# CA certificates: the server may reach PostgreSQL over TLS.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /var/lib/registry registry && mkdir -p /var/lib/registry && chown registry /var/lib/registry
COPY --from=build /src/target/release/registry /usr/local/bin/registry
USER registry
WORKDIR /var/lib/registry
ENV REGISTRY_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["registry", "healthcheck"]
ENTRYPOINT ["registry"]
CMD ["serve"]

# Multi-stage: a release build, then a slim non-root runtime.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Build dependencies first so that source edits reuse this layer.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked || true
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin yongjun

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/yongjun --create-home yongjun
COPY --from=build /src/target/release/yongjun /usr/local/bin/yongjun
USER yongjun
WORKDIR /var/lib/yongjun
ENV YONGJUN_BIND=0.0.0.0:8080 \
    YONGJUN_DATA_DIR=/var/lib/yongjun/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["yongjun", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["yongjun"]
CMD ["serve"]

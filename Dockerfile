# hirelay's container image: built in one stage, run in a small non-root one.
#   docker build -t hirelay .
#   docker run -d -p 8080:8080 -v hirelay-data:/var/lib/hirelay/data --env-file hirelay.env hirelay
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p hirelay \
 && install -m 0755 target/release/hirelay /usr/local/bin/hirelay

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/hirelay --shell /usr/sbin/nologin hirelay \
 && install -d -m 0700 -o hirelay -g hirelay /var/lib/hirelay /var/lib/hirelay/data
COPY --from=build /usr/local/bin/hirelay /usr/local/bin/hirelay
COPY rules /usr/share/hirelay/rules
COPY templates /usr/share/hirelay/templates
ENV HIRELAY_BIND=0.0.0.0:8080 \
    HIRELAY_DATA_DIR=/var/lib/hirelay/data \
    HIRELAY_RULES_DIR=/usr/share/hirelay/rules \
    HIRELAY_TEMPLATES_DIR=/usr/share/hirelay/templates \
    HIRELAY_LOG_FORMAT=json
USER hirelay
WORKDIR /var/lib/hirelay
VOLUME ["/var/lib/hirelay/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM ends it gracefully (in-flight requests and the batch in hand finish).
STOPSIGNAL SIGTERM
ENTRYPOINT ["hirelay"]
CMD ["serve"]

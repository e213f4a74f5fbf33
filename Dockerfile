# Multi-stage build: compile every binary once, ship them in a small runtime image.
# The image runs any service: `polystatus up` (all in one) or a single service binary (`users`).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin polystatus --bin users --bin incidents --bin comms --bin csp-ingestor --bin flags --bin frontend

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home polystatus
COPY --from=build /src/target/release/polystatus /src/target/release/users /src/target/release/incidents /src/target/release/comms /src/target/release/csp-ingestor /src/target/release/flags /src/target/release/frontend /usr/local/bin/
USER polystatus
WORKDIR /data
ENV LOG_FORMAT=json
EXPOSE 3000 8070 8080 8081 8082 8083
CMD ["polystatus", "up"]

# Builds the one jitaccess binary. Used by docker-compose.yml for the API and the worker.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/jitaccess ./cmd/jitaccess

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jitaccess /usr/local/bin/jitaccess
USER nonroot
ENTRYPOINT ["/usr/local/bin/jitaccess"]
CMD ["serve"]

// Package temporalclient provides what a Temporal client of jitaccess needs: the connection
// options (mTLS, API key, compression), the data converter with its AES-GCM payload codec,
// the interceptors (refusing unencrypted signals, tracing), the search attributes, the SDK's
// Prometheus metrics and the codec server's HTTP handler. API, worker, tools and tests dial
// Temporal through it, so they all read and write the same payloads.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"

	"github.com/jitaccess/jitaccess/config"
)

// Deps are what a client needs besides the configuration. The zero value is usable.
type Deps struct {
	Logger *slog.Logger
	// Metrics receives the SDK's metrics (NewMetricsHandler); nil: none.
	Metrics client.MetricsHandler
	// Interceptors are added after the codec's own.
	Interceptors []interceptor.ClientInterceptor
	// TracerProvider, when set, traces client, workflows and activities (TracingInterceptor).
	TracerProvider trace.TracerProvider
}

// CodecFromConfig is the payload codec keyed by JIT_ENCRYPTION_KEY and
// JIT_PREVIOUS_ENCRYPTION_KEYS. It reads plain payloads; workers use its Strict variant.
func CodecFromConfig(cfg config.Config) (*Codec, error) {
	c, err := NewCodec(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return nil, fmt.Errorf("JIT_ENCRYPTION_KEY: %w", err)
	}
	return c, nil
}

// ReaderConverter is the converter for reading histories (replay, timeline, audit): it
// decrypts payloads and also reads the plain ones recorded before the codec.
func ReaderConverter(cfg config.Config) (converter.DataConverter, error) {
	c, err := CodecFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewDataConverter(c), nil
}

// ClientOptions are the SDK options of a jitaccess client (API and worker alike): the
// configured address and namespace, TLS or API key, compression, and the strict converter,
// so a worker refuses a workflow whose input arrives without the codec.
func ClientOptions(cfg config.Config, d Deps) (client.Options, error) {
	codec, err := CodecFromConfig(cfg)
	if err != nil {
		return client.Options{}, err
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	interceptors := append([]interceptor.ClientInterceptor{&refuser{}}, d.Interceptors...)
	if d.TracerProvider != nil {
		tracing, err := TracingInterceptor(d.TracerProvider)
		if err != nil {
			return client.Options{}, fmt.Errorf("tracing: %w", err)
		}
		interceptors = append(interceptors, tracing)
	}
	opts := client.Options{
		HostPort:      cfg.TemporalAddress,
		Namespace:     cfg.TemporalNamespace,
		Logger:        tlog.NewStructuredLogger(logger.With("component", "temporal")),
		DataConverter: NewDataConverter(codec.Strict()),
		Interceptors:  interceptors,
	}
	// The SDK gzips every call by default; on a LAN that only spends CPU on both ends
	// (docs/performance.md), so jitaccess compresses only when told to.
	if !cfg.TemporalGzip {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	if cfg.TemporalTLS != nil {
		opts.ConnectionOptions.TLS = cfg.TemporalTLS.Clone()
	}
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	if d.Metrics != nil {
		opts.MetricsHandler = d.Metrics
	}
	return opts, nil
}

// Dial connects to the configured Temporal frontend and namespace with ClientOptions.
func Dial(ctx context.Context, cfg config.Config, d Deps) (client.Client, error) {
	opts, err := ClientOptions(cfg, d)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (JIT_TEMPORAL_ADDRESS): %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

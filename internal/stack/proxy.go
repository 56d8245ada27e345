package stack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// maxReplayBody bounds the request body the proxy keeps to try another backend; the API
// refuses bodies over 64 KiB anyway.
const maxReplayBody = 1 << 20

// Proxy spreads requests over the API processes round-robin, the way a load balancer in front
// of `jitaccess serve` would. A backend that refuses the connection (stopped, crashed,
// restarting) is skipped for that request, which then goes to the next one: the request never
// reached the dead backend, so trying another is safe even for a POST.
type Proxy struct {
	backends  []*url.URL
	next      atomic.Uint64
	transport http.RoundTripper
	handler   *httputil.ReverseProxy
}

// NewProxy proxies to the given base URLs (http://host:port).
func NewProxy(backends ...string) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("proxy: no backends")
	}
	p := &Proxy{transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}}
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("proxy: backend %q is not a URL", b)
		}
		p.backends = append(p.backends, u)
	}
	p.handler = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetXForwarded()
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = p.backends[0].Host // replaced per attempt by RoundTrip
			r.Out.Host = r.In.Host              // the API sees the public host, as behind a load balancer
		},
		Transport: roundTripper(p.roundTrip),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, `{"error":{"code":"bad_gateway","message":"no API process answered"}}`, http.StatusBadGateway)
		},
	}
	return p, nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// roundTrip tries the backends in round-robin order from the next one, moving on only when a
// backend refuses the connection.
func (p *Proxy) roundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxReplayBody {
			return nil, errors.New("proxy: request body too large")
		}
		body = b
	}
	start := p.next.Add(1)
	var last error
	for i := range len(p.backends) {
		b := p.backends[(start+uint64(i))%uint64(len(p.backends))]
		out := req.Clone(req.Context())
		out.URL.Host = b.Host
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.ContentLength = int64(len(body))
		}
		resp, err := p.transport.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		if !refused(err) {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// refused reports a failure to connect: the request did not reach the backend.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

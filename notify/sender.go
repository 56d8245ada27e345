package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Sender delivers one event to one destination.
type Sender interface {
	Send(ctx context.Context, d store.Destination, secrets store.DestinationSecrets, ev Event) error
}

// ErrPermanent marks a delivery that retrying cannot fix (a 4xx other than 408/429, a
// destination without a URL): it fails at once and the grant's next event goes on.
var ErrPermanent = errors.New("permanent delivery failure")

// DefaultHTTPClient is what HTTP senders use without a client of their own: no redirects
// (a webhook answering a redirect is misconfigured) and a short timeout.
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends body to url and maps the answer to nil, a retryable error or ErrPermanent.
func post(ctx context.Context, client *http.Client, url, contentType string, body []byte, header http.Header) error {
	if url == "" {
		return fmt.Errorf("destination has no URL: %w", ErrPermanent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %v: %w", err, ErrPermanent)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "jitaccess-notify/1")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold a credential (Teams, Slack): say only what failed.
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) {
			err = uerr.Unwrap()
		}
		return fmt.Errorf("post to %s: %v", req.URL.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return fmt.Errorf("%s answered %d", req.URL.Host, resp.StatusCode)
	default:
		return fmt.Errorf("%s answered %d: %w", req.URL.Host, resp.StatusCode, ErrPermanent)
	}
}

// Webhook posts signed CloudEvents 1.0 (structured mode).
type Webhook struct {
	Client *http.Client // nil: DefaultHTTPClient
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, _ store.Destination, sec store.DestinationSecrets, ev Event) error {
	body, err := CloudEvent(ev)
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrPermanent)
	}
	h := http.Header{}
	if sec.SigningSecret != "" {
		h.Set(SignatureHeader, Sign([]byte(sec.SigningSecret), body))
	}
	return post(ctx, clientOr(w.Client), sec.URL, "application/cloudevents+json; charset=utf-8", body, h)
}

func clientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return DefaultHTTPClient()
}

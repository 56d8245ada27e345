package siem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// JSONLines POSTs each batch as newline-delimited JSON; a 2xx answer acknowledges it.
type JSONLines struct {
	URL    string
	Token  string
	Client *http.Client
}

// Name is "https:<url>".
func (j *JSONLines) Name() string { return "https:" + j.URL }

// ReplayAfterError is false: an HTTP answer acknowledges exactly what it answers.
func (j *JSONLines) ReplayAfterError() bool { return false }

// Close does nothing.
func (j *JSONLines) Close() error { return nil }

// Send posts events; the SIEM de-duplicates a batch sent twice by each line's id.
func (j *JSONLines) Send(ctx context.Context, events []store.AuditEvent) error {
	var body bytes.Buffer
	for _, e := range events {
		b, err := marshal(e)
		if err != nil {
			return err
		}
		body.Write(b)
		body.WriteByte('\n')
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, &body)
	if err != nil {
		return fmt.Errorf("siem https: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if j.Token != "" {
		req.Header.Set("Authorization", "Bearer "+j.Token)
	}
	c := j.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("siem https: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("siem https: %s answered %s", j.URL, resp.Status)
	}
	return nil
}

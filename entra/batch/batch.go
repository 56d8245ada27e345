// Package batch runs requests through Microsoft Graph's JSON $batch: chunks of at most 20 with
// their dependencies kept together, items answered 429/503/504 resent after their Retry-After
// within a bound, and the decoding of the answer. The caller builds and sends each chunk with
// its Graph client (package entra, the only one with the SDK); this package needs none.
package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/entra/grapherr"
)

// MaxItems is Graph's limit of requests in one JSON $batch.
const MaxItems = 20

// Step is one request of a $batch; R is the caller's request type.
type Step[R any] struct {
	Req       R
	DependsOn int // index+1 of a step in the same $batch that must succeed first; 0: none
}

// Result is Graph's answer to one step.
type Result struct {
	Status  int
	Body    json.RawMessage
	Headers map[string]string
}

// OK reports a 2xx answer.
func (r *Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Failure describes a non-2xx answer.
func (r *Result) Failure() *grapherr.Failure {
	return grapherr.Parse(r.Status, r.Body, func(k string) string {
		for hk, v := range r.Headers {
			if strings.EqualFold(hk, k) {
				return v
			}
		}
		return ""
	})
}

// Decode reads the answer to a $batch of n items (ids "1".."n") and returns each item's
// answer by index. Headers are kept as strings even when Graph sends a number.
func Decode(body []byte, n int) ([]Result, error) {
	var resp struct {
		Responses []struct {
			ID      string                     `json:"id"`
			Status  int                        `json:"status"`
			Headers map[string]json.RawMessage `json:"headers"`
			Body    json.RawMessage            `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("entra: decode the $batch answer: %w", err)
	}
	out := make([]Result, n)
	for _, r := range resp.Responses {
		i, err := strconv.Atoi(r.ID)
		if err != nil || i < 1 || i > n {
			return nil, fmt.Errorf("entra: the $batch answer has an unknown item id %q", r.ID)
		}
		res := Result{Status: r.Status, Body: r.Body, Headers: make(map[string]string, len(r.Headers))}
		for k, v := range r.Headers {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = strings.Trim(string(v), `"`) // e.g. a numeric Retry-After
			}
			res.Headers[k] = s
		}
		out[i-1] = res
	}
	for i := range out {
		if out[i].Status == 0 {
			return nil, fmt.Errorf("entra: the $batch answer lacks item %d", i+1)
		}
	}
	return out, nil
}

// Send sends 1 to MaxItems steps as one $batch and returns each step's answer by index.
type Send[R any] func(ctx context.Context, chunk []Step[R]) ([]Result, error)

// Run runs steps in $batches of at most MaxItems and resends the items Graph answered with
// 429/503/504 (a 424 "failed dependency" goes with its dependency) after their Retry-After,
// for at most throttleWait. It returns the final answer of every step; items still throttled
// keep their 429/503. Dependencies must point into the same chunk of 20; callers put
// dependent steps first.
func Run[R any](ctx context.Context, steps []Step[R], throttleWait time.Duration, send Send[R]) ([]Result, error) {
	results := make([]Result, len(steps))
	pending := make([]int, len(steps))
	for i := range steps {
		pending[i] = i
	}
	deadline := time.Now().Add(max(throttleWait, 0))
	for {
		// Send the pending steps, chunked; a dependency stays in its dependant's chunk.
		for start := 0; start < len(pending); {
			end := min(start+MaxItems, len(pending))
			idx := pending[start:end]
			chunk := make([]Step[R], len(idx))
			pos := make(map[int]int, len(idx))
			for k, i := range idx {
				pos[i] = k + 1
			}
			for k, i := range idx {
				chunk[k] = Step[R]{Req: steps[i].Req}
				if d := steps[i].DependsOn; d > 0 {
					chunk[k].DependsOn = pos[d-1] // 0 when the dependency already succeeded
				}
			}
			res, err := send(ctx, chunk)
			if err != nil {
				return nil, err
			}
			for k, i := range idx {
				results[i] = res[k]
			}
			start = end
		}

		var again []int
		retry := make(map[int]bool)
		var wait time.Duration
		for _, i := range pending {
			r := &results[i]
			switch {
			case r.Status == http.StatusFailedDependency:
				// Resent with its dependency when that is resent; otherwise the
				// dependency failed for good and so does this step.
				if d := steps[i].DependsOn; d > 0 && retry[d-1] {
					again, retry[i] = append(again, i), true
				}
			case !r.OK():
				if f := r.Failure(); f.Retryable() {
					again, retry[i] = append(again, i), true
					wait = max(wait, f.RetryAfterOr(time.Second))
				}
			}
		}
		if len(again) == 0 || time.Now().Add(wait).After(deadline) {
			return results, nil
		}
		if err := Sleep(ctx, wait); err != nil {
			return nil, err
		}
		pending = again
	}
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

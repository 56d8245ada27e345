package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// maxBatchItems is Graph's limit of requests in one JSON $batch.
const maxBatchItems = 20

// step is one request of a $batch, built with the SDK's request builders.
type step struct {
	req       *abs.RequestInformation
	dependsOn int // index+1 of a step in the same $batch that must succeed first; 0: none
}

// stepResult is Graph's answer to one step.
type stepResult struct {
	status  int
	body    json.RawMessage
	headers map[string]string
}

func (r *stepResult) ok() bool { return r.status >= 200 && r.status < 300 }

// failure describes a non-2xx step answer.
func (r *stepResult) failure() *graphFailure {
	f := &graphFailure{status: r.status, header: func(k string) string {
		for hk, v := range r.headers {
			if strings.EqualFold(hk, k) {
				return v
			}
		}
		return ""
	}}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Code   string `json:"code"`
				Target string `json:"target"`
			} `json:"details"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if len(r.body) > 0 && json.Unmarshal(r.body, &env) == nil {
		f.code, f.message, f.requestID = env.Error.Code, env.Error.Message, env.Error.InnerError.RequestID
		for _, d := range env.Error.Details {
			f.details = append(f.details, graphDetail{code: d.Code, target: d.Target})
		}
	}
	if f.requestID == "" {
		f.requestID = f.header("request-id")
	}
	if f.message == "" {
		f.message = http.StatusText(r.status)
	}
	return f
}

// sendBatch sends up to 20 steps as one JSON batch (POST /$batch) and returns each step's
// answer by index. The $batch itself goes through the SDK's middleware, so a 429/503 of the
// whole batch is retried honouring Retry-After; inside a 200 each item can still carry its
// own 429 (Graph throttles batch items individually) — the callers handle those.
//
// The items are built by msgraph-sdk-go-core's BatchRequest from the SDK's request
// builders. The answer is decoded here rather than by BatchRequest.Send, whose generic body
// decoding drops numbers and expects every header to be a JSON string.
func (c *Client) sendBatch(ctx context.Context, steps []step) ([]stepResult, error) {
	if len(steps) == 0 || len(steps) > maxBatchItems {
		return nil, fmt.Errorf("entra: a $batch takes 1 to %d requests, not %d", maxBatchItems, len(steps))
	}
	batch := msgraphgocore.NewBatchRequest(c.adapter)
	items := make([]msgraphgocore.BatchItem, len(steps))
	for i, s := range steps {
		item, err := batch.AddBatchRequestStep(*s.req)
		if err != nil {
			return nil, fmt.Errorf("entra: build $batch item: %w", err)
		}
		id := strconv.Itoa(i + 1)
		item.SetId(&id)
		if s.dependsOn > 0 {
			item.DependsOnItem(items[s.dependsOn-1])
		}
		items[i] = item
	}

	req := abs.NewRequestInformation()
	req.Method = abs.POST
	req.UrlTemplate = "{+baseurl}/$batch"
	req.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	req.Headers.TryAdd("Accept", "application/json")
	if err := req.SetContentFromParsable(ctx, c.adapter, "application/json", batch); err != nil {
		return nil, fmt.Errorf("entra: encode $batch: %w", err)
	}
	raw, err := c.adapter.SendPrimitive(ctx, req, "[]byte", abs.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	if err != nil {
		return nil, err
	}
	body, _ := raw.([]byte)
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
	out := make([]stepResult, len(steps))
	for _, r := range resp.Responses {
		i, err := strconv.Atoi(r.ID)
		if err != nil || i < 1 || i > len(steps) {
			return nil, fmt.Errorf("entra: the $batch answer has an unknown item id %q", r.ID)
		}
		res := stepResult{status: r.Status, body: r.Body, headers: make(map[string]string, len(r.Headers))}
		for k, v := range r.Headers {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = strings.Trim(string(v), `"`) // e.g. a numeric Retry-After
			}
			res.headers[k] = s
		}
		out[i-1] = res
	}
	for i := range out {
		if out[i].status == 0 {
			return nil, fmt.Errorf("entra: the $batch answer lacks item %d", i+1)
		}
	}
	return out, nil
}

// runSteps runs steps in $batches of at most 20 and resends the items Graph answered with
// 429/503/504 (a 424 "failed dependency" goes with its dependency) after their Retry-After,
// for at most Config.ThrottleWait. It returns the final answer of every step; items still
// throttled keep their 429/503. Dependencies must point into the same chunk of 20; callers
// put dependent steps first.
func (c *Client) runSteps(ctx context.Context, steps []step) ([]stepResult, error) {
	results := make([]stepResult, len(steps))
	pending := make([]int, len(steps))
	for i := range steps {
		pending[i] = i
	}
	deadline := time.Now().Add(max(c.cfg.ThrottleWait, 0))
	for {
		// Send the pending steps, chunked; a dependency stays in its dependant's chunk.
		for start := 0; start < len(pending); {
			end := min(start+maxBatchItems, len(pending))
			idx := pending[start:end]
			chunk := make([]step, len(idx))
			pos := make(map[int]int, len(idx))
			for k, i := range idx {
				pos[i] = k + 1
			}
			for k, i := range idx {
				chunk[k] = step{req: steps[i].req}
				if d := steps[i].dependsOn; d > 0 {
					chunk[k].dependsOn = pos[d-1] // 0 when the dependency already succeeded
				}
			}
			res, err := c.sendBatch(ctx, chunk)
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
			case r.status == http.StatusFailedDependency:
				// Resent with its dependency when that is resent; otherwise the
				// dependency failed for good and so does this step.
				if d := steps[i].dependsOn; d > 0 && retry[d-1] {
					again, retry[i] = append(again, i), true
				}
			case !r.ok():
				if f := r.failure(); f.retryable() {
					again, retry[i] = append(again, i), true
					wait = max(wait, f.retryAfterOr(time.Second))
				}
			}
		}
		if len(again) == 0 || time.Now().Add(wait).After(deadline) {
			return results, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		pending = again
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
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

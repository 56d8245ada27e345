package batch_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/entra/batch"
)

// A $batch answer decodes by item id, numeric headers included; a missing item is an error.
func TestDecode(t *testing.T) {
	res, err := batch.Decode([]byte(`{"responses":[{"id":"2","status":429,"headers":{"Retry-After":3}},
		{"id":"1","status":201,"body":{"id":"a"}}]}`), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].OK() || string(res[0].Body) != `{"id":"a"}` || res[1].OK() || res[1].Failure().RetryAfterOr(0) != 3*time.Second {
		t.Errorf("decoded %+v", res)
	}
	if _, err := batch.Decode([]byte(`{"responses":[{"id":"1","status":200}]}`), 2); err == nil {
		t.Error("an answer lacking an item is accepted")
	}
}

// Run chunks by 20, resends only the throttled items (with what depends on them, renumbered),
// and gives up on them after the throttle wait.
func TestRunResendsThrottledItems(t *testing.T) {
	steps := make([]batch.Step[string], 23)
	for i := range steps {
		steps[i] = batch.Step[string]{Req: string(rune('a' + i))}
	}
	steps[22].DependsOn = 22 // "w" depends on "v"
	sent := map[string]int{}
	var chunks [][]batch.Step[string]
	send := func(_ context.Context, chunk []batch.Step[string]) ([]batch.Result, error) {
		chunks = append(chunks, chunk)
		out := make([]batch.Result, len(chunk))
		for k, s := range chunk {
			sent[s.Req]++
			switch {
			case s.Req == "c" && sent[s.Req] == 1, s.Req == "v" && sent[s.Req] == 1:
				out[k] = batch.Result{Status: http.StatusTooManyRequests, Headers: map[string]string{"retry-after": "0"}}
			case s.Req == "w" && sent[s.Req] == 1:
				out[k] = batch.Result{Status: http.StatusFailedDependency}
			default:
				out[k] = batch.Result{Status: http.StatusOK}
			}
		}
		return out, nil
	}
	res, err := batch.Run(context.Background(), steps, time.Second, send)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.OK() {
			t.Errorf("step %d: %d", i, r.Status)
		}
	}
	if len(chunks) != 3 || len(chunks[0]) != 20 || len(chunks[1]) != 3 || len(chunks[2]) != 3 {
		t.Fatalf("chunks %v", chunks)
	}
	if again := chunks[2]; again[0].Req != "c" || again[1].Req != "v" || again[2].Req != "w" || again[2].DependsOn != 2 {
		t.Errorf("resent %+v", again)
	}

	always := func(_ context.Context, chunk []batch.Step[string]) ([]batch.Result, error) {
		return []batch.Result{{Status: http.StatusServiceUnavailable, Headers: map[string]string{"Retry-After": "1"}}}, nil
	}
	res, err = batch.Run(context.Background(), steps[:1], 0, always)
	if err != nil || res[0].Status != http.StatusServiceUnavailable {
		t.Errorf("past the throttle wait the 503 is returned: %+v, %v", res, err)
	}
}

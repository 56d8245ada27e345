package entra

import (
	"context"
	"fmt"
	"strconv"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/jitaccess/jitaccess/entra/batch"
)

// step is one request of a $batch, built with the SDK's request builders.
type step = batch.Step[*abs.RequestInformation]

// sendBatch sends up to 20 steps as one JSON batch (POST /$batch) and returns each step's
// answer by index. The $batch itself goes through the SDK's middleware, so a 429/503 of the
// whole batch is retried honouring Retry-After; inside a 200 each item can still carry its
// own 429 (Graph throttles batch items individually): runSteps handles those.
//
// The items are built by msgraph-sdk-go-core's BatchRequest from the SDK's request
// builders. The answer is decoded by batch.Decode rather than by BatchRequest.Send, whose
// generic body decoding drops numbers and expects every header to be a JSON string.
func (c *Client) sendBatch(ctx context.Context, steps []step) ([]batch.Result, error) {
	if len(steps) == 0 || len(steps) > batch.MaxItems {
		return nil, fmt.Errorf("entra: a $batch takes 1 to %d requests, not %d", batch.MaxItems, len(steps))
	}
	req := msgraphgocore.NewBatchRequest(c.adapter)
	items := make([]msgraphgocore.BatchItem, len(steps))
	for i, s := range steps {
		item, err := req.AddBatchRequestStep(*s.Req)
		if err != nil {
			return nil, fmt.Errorf("entra: build $batch item: %w", err)
		}
		id := strconv.Itoa(i + 1)
		item.SetId(&id)
		if s.DependsOn > 0 {
			item.DependsOnItem(items[s.DependsOn-1])
		}
		items[i] = item
	}

	info := abs.NewRequestInformation()
	info.Method = abs.POST
	info.UrlTemplate = "{+baseurl}/$batch"
	info.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	info.Headers.TryAdd("Accept", "application/json")
	if err := info.SetContentFromParsable(ctx, c.adapter, "application/json", req); err != nil {
		return nil, fmt.Errorf("entra: encode $batch: %w", err)
	}
	raw, err := c.adapter.SendPrimitive(ctx, info, "[]byte", errorMapping())
	if err != nil {
		return nil, err
	}
	body, _ := raw.([]byte)
	return batch.Decode(body, len(steps))
}

// runSteps runs steps through $batches (batch.Run), resending throttled items for at most
// Config.ThrottleWait.
func (c *Client) runSteps(ctx context.Context, steps []step) ([]batch.Result, error) {
	return batch.Run(ctx, steps, c.cfg.ThrottleWait, c.sendBatch)
}

package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/workflows"
)

// EnsureSearchAttributes registers the workflow's custom search attributes when the namespace
// lacks them, as Temporal's reference application does at start-up, so a fresh self-hosted
// cluster needs no manual step. Temporal Cloud refuses this call from a namespace client; there
// the attributes are created once with tcld, and a refusal here is logged, not fatal.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, logger *slog.Logger) error {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: map[string]enums.IndexedValueType{}}
	for _, d := range workflows.SearchAttributeDefinitions() {
		have, ok := resp.CustomAttributes[d.Name]
		switch {
		case !ok:
			missing.SearchAttributes[d.Name] = d.IndexedValueType()
		case have != d.IndexedValueType():
			return fmt.Errorf("search attribute %s exists with type %s, want %s", d.Name, have, d.Type)
		}
	}
	if len(missing.SearchAttributes) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, missing); err != nil {
		var denied *serviceerror.PermissionDenied
		if errors.As(err, &denied) {
			logger.Warn("cannot register search attributes; create them in the namespace (see README)", "missing", len(missing.SearchAttributes), "err", err)
			return nil
		}
		var exists *serviceerror.AlreadyExists
		if errors.As(err, &exists) {
			return nil // another instance registered them first
		}
		return fmt.Errorf("add search attributes: %w", err)
	}
	logger.Info("registered search attributes", "count", len(missing.SearchAttributes))
	return nil
}

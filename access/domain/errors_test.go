package domain_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jitaccess/jitaccess/access/domain"
)

func TestErrorsKeepTheirKindThroughWrapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind domain.Kind
		code string
	}{
		{domain.FieldError("name", "is required."), domain.Invalid, "invalid_field"},
		{fmt.Errorf("op: %w", domain.NotFoundError("tenant")), domain.NotFound, "not_found"},
		{domain.Refuse(domain.Conflict, "account_conflict", "x"), domain.Conflict, "account_conflict"},
	} {
		e := domain.AsError(tc.err)
		if e == nil || e.Kind != tc.kind || e.Code != tc.code {
			t.Errorf("%v: got %+v", tc.err, e)
		}
	}
	if domain.AsError(context.Canceled) != nil {
		t.Error("a plain error is not a refusal")
	}
	if e := domain.FieldError("name", "is required."); e.Field != "name" || e.Message != "name: is required." {
		t.Errorf("field error %+v", e)
	}
}

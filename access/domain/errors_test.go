package access_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jitaccess/jitaccess/access"
)

func TestErrorsKeepTheirKindThroughWrapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind access.Kind
		code string
	}{
		{access.FieldError("name", "is required."), access.Invalid, "invalid_field"},
		{fmt.Errorf("op: %w", access.NotFoundError("tenant")), access.NotFound, "not_found"},
		{access.Refuse(access.Conflict, "account_conflict", "x"), access.Conflict, "account_conflict"},
	} {
		e := access.AsError(tc.err)
		if e == nil || e.Kind != tc.kind || e.Code != tc.code {
			t.Errorf("%v: got %+v", tc.err, e)
		}
	}
	if access.AsError(context.Canceled) != nil {
		t.Error("a plain error is not a refusal")
	}
	if e := access.FieldError("name", "is required."); e.Field != "name" || e.Message != "name: is required." {
		t.Errorf("field error %+v", e)
	}
}

package entra

import (
	"errors"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/jitaccess/jitaccess/entra/grapherr"
)

// failureOf extracts Graph's answer from an error of the SDK; nil when err is not one.
func failureOf(err error) *grapherr.Failure {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		f := &grapherr.Failure{Status: oe.ResponseStatusCode, Header: headerFunc(oe.ResponseHeaders)}
		if me := oe.GetErrorEscaped(); me != nil {
			f.Code, f.Message = deref(me.GetCode()), deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				f.Details = append(f.Details, grapherr.Detail{Code: deref(d.GetCode()), Target: deref(d.GetTarget())})
			}
			if ie := me.GetInnerError(); ie != nil {
				f.RequestID = deref(ie.GetRequestId())
			}
		}
		if f.RequestID == "" && f.Header != nil {
			f.RequestID = f.Header("request-id")
		}
		return f
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) && ae.ResponseStatusCode != 0 {
		f := &grapherr.Failure{Status: ae.ResponseStatusCode, Header: headerFunc(ae.ResponseHeaders), Message: "no error body"}
		if f.Header != nil {
			f.RequestID = f.Header("request-id")
		}
		return f
	}
	return nil
}

func headerFunc(h *abs.ResponseHeaders) func(string) string {
	if h == nil {
		return nil
	}
	return func(key string) string {
		if v := h.Get(key); len(v) > 0 {
			return v[0]
		}
		return ""
	}
}

// mapGraphError maps any error of a Graph call to package directory's errors.
func mapGraphError(op string, err error) error { return grapherr.Map(op, err, failureOf) }

// statusOf returns the HTTP status Graph answered, or 0.
func statusOf(err error) int {
	if f := failureOf(err); f != nil {
		return f.Status
	}
	return 0
}

// errorMapping decodes any Graph error answer as an OData error.
func errorMapping() abs.ErrorMappings {
	return abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
}

package timeline

import (
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/workflows"
)

// RoleList names role template ids, with the display name of well-known built-in roles.
func RoleList(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if name, ok := builtinRoleNames[strings.ToLower(id)]; ok {
			out[i] = fmt.Sprintf("%s (%s)", name, id)
		} else {
			out[i] = id
		}
	}
	return strings.Join(out, ", ")
}

// builtinRoleNames are template ids of common Entra built-in roles (Microsoft's
// "Microsoft Entra built-in roles" reference); others are shown by id.
var builtinRoleNames = map[string]string{
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
	"3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
	"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
	"c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
	"158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
	"966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
	"69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
	"fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
	"4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
}

func statusOf(e *historypb.HistoryEvent) (string, bool) {
	var fields map[string]*commonpb.Payload
	if a := e.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
		fields = a.GetSearchAttributes().GetIndexedFields()
	} else if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		fields = a.GetSearchAttributes().GetIndexedFields()
	}
	p, ok := fields[workflows.StatusKey.GetName()]
	if !ok {
		return "", false
	}
	var s string
	if converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return "", false
	}
	return s, true
}

func expiresOf(e *historypb.HistoryEvent) time.Time {
	p, ok := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()[workflows.ExpiresAtKey.GetName()]
	if !ok {
		return time.Time{}
	}
	var at time.Time
	_ = converter.GetDefaultDataConverter().FromPayload(p, &at)
	return at
}

func activityType(sched *historypb.HistoryEvent) string {
	if name := sched.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(); name != "" {
		return name
	}
	return "(unknown activity)"
}

// summary decodes a user metadata summary (a JSON string payload).
func (t *timeline) summary(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	var s string
	_ = t.dc.FromPayload(p, &s)
	return s
}

func (t *timeline) decode(p *commonpb.Payloads, v any) error { return decode(t.dc, p, v) }

func decode(dc converter.DataConverter, p *commonpb.Payloads, v any) error {
	if len(p.GetPayloads()) == 0 {
		return nil
	}
	return dc.FromPayloads(p, v)
}

// failureText is "<type>: <message>" of a Temporal failure, e.g. "Throttled: disable account …".
func failureText(f *failurepb.Failure) string {
	if f == nil {
		return "(no details)"
	}
	msg := f.GetMessage()
	if typ := failureType(f); typ != "" {
		msg = typ + ": " + msg
	}
	if c := f.GetCause(); c != nil && c.GetMessage() != "" && c.GetMessage() != f.GetMessage() {
		msg += " (cause: " + failureText(c) + ")"
	}
	return msg
}

func failureType(f *failurepb.Failure) string {
	switch {
	case f.GetApplicationFailureInfo() != nil:
		return f.GetApplicationFailureInfo().GetType()
	case f.GetTimeoutFailureInfo() != nil:
		return "Timeout(" + strings.TrimPrefix(f.GetTimeoutFailureInfo().GetTimeoutType().String(), "TIMEOUT_TYPE_") + ")"
	case f.GetCanceledFailureInfo() != nil:
		return "Canceled"
	case f.GetTerminatedFailureInfo() != nil:
		return "Terminated"
	}
	return ""
}

func actorOf(kind, id string) string {
	if id == "" {
		return "system"
	}
	if kind == "" {
		kind = "technician"
	}
	return kind + ":" + id
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf(", reason %q", reason)
}

func orDash(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return "-"
}

// formatMillis shows times to the millisecond, like the timeline's own column (the workflow's
// summaries show seconds).
func formatMillis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Package policy is the per-application access policy: what a request must carry
// (justification, ticket reference), how long access may last, and who must approve it.
// It is pure: the domain service and the approval activity call it with what they read
// from the database.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Justification settings.
const (
	Required = "required"
	Optional = "optional"
)

// DefaultApprovalTimeout is how long a request waits for its approvers unless the policy
// says otherwise; then it ends expired_unapproved.
const DefaultApprovalTimeout = 8 * time.Hour

// MaxApprovalTimeout bounds a policy's decision timeout.
const MaxApprovalTimeout = 7 * 24 * time.Hour

// MaxApprovalsNeeded bounds approvals_needed.
const MaxApprovalsNeeded = 10

// Policy is an application's policy; its JSON is the "policy" field of an application.
type Policy struct {
	Justification    string   `json:"justification"`
	Ticket           Ticket   `json:"ticket"`
	MaxDuration      Duration `json:"max_duration"`       // 0: the application's access duration
	MaxTotalDuration Duration `json:"max_total_duration"` // 0: the global maximum
	Approval         Approval `json:"approval"`
}

// Ticket says whether a request must name a ticket of the MSP's PSA, and its shape.
type Ticket struct {
	Required bool   `json:"required"`
	Pattern  string `json:"pattern"` // a Go regexp the whole reference must match; "" accepts any
	Label    string `json:"label"`   // e.g. "ConnectWise ticket"
}

// Approval says whether, and by whom, a request must be approved before any Entra call.
type Approval struct {
	Required bool `json:"required"`
	// ApproverGroupIDs are groups of the application's tenant ("all-admins" is the built-in
	// one) whose members may decide; empty means the MSP's admins.
	ApproverGroupIDs []string `json:"approver_group_ids"`
	ApprovalsNeeded  int      `json:"approvals_needed"` // distinct approvers, never the requester
	Timeout          Duration `json:"timeout"`
}

// Default is the policy of an application that has none saved: justification optional, no
// ticket, durations bounded by the application and the global maximum, and approval by one
// admin within DefaultApprovalTimeout when roleIDs include a privileged role.
func Default(roleIDs []string) Policy {
	p := Policy{Justification: Optional, Approval: Approval{ApproverGroupIDs: []string{}}}
	if HasPrivilegedRole(roleIDs) {
		p.Approval = Approval{Required: true, ApproverGroupIDs: []string{}, ApprovalsNeeded: 1, Timeout: Duration(DefaultApprovalTimeout)}
	}
	return p
}

// normalize fills the values a saved policy may leave out.
func (p Policy) normalize() Policy {
	if p.Justification == "" {
		p.Justification = Optional
	}
	if p.Approval.ApproverGroupIDs == nil {
		p.Approval.ApproverGroupIDs = []string{}
	}
	if p.Approval.Required {
		if p.Approval.ApprovalsNeeded == 0 {
			p.Approval.ApprovalsNeeded = 1
		}
		if p.Approval.Timeout == 0 {
			p.Approval.Timeout = Duration(DefaultApprovalTimeout)
		}
	}
	p.Ticket.Pattern = strings.TrimSpace(p.Ticket.Pattern)
	p.Ticket.Label = strings.TrimSpace(p.Ticket.Label)
	return p
}

// Limits are the bounds a policy lives within.
type Limits struct {
	GlobalMax time.Duration // JIT_MAX_ACCESS_DURATION
	GlobalMin time.Duration // JIT_MIN_ACCESS_DURATION
}

// Apply decodes a policy document (a whole policy or some of its fields) over current, and
// validates the result. Unknown fields are refused. The error is a *Error naming the field.
func Apply(current Policy, doc []byte, lim Limits) (Policy, error) {
	w := wireOf(current)
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Policy{}, decodeError(err)
	}
	p, err := w.policy()
	if err != nil {
		return Policy{}, err
	}
	p = p.normalize()
	if err := p.Validate(lim); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// wire is Policy as decoded from a request: durations as text, so a bad one names its field.
type wire struct {
	Justification    string `json:"justification"`
	Ticket           Ticket `json:"ticket"`
	MaxDuration      string `json:"max_duration"`
	MaxTotalDuration string `json:"max_total_duration"`
	Approval         struct {
		Required         bool     `json:"required"`
		ApproverGroupIDs []string `json:"approver_group_ids"`
		ApprovalsNeeded  int      `json:"approvals_needed"`
		Timeout          string   `json:"timeout"`
	} `json:"approval"`
}

func wireOf(p Policy) wire {
	w := wire{Justification: p.Justification, Ticket: p.Ticket,
		MaxDuration: p.MaxDuration.text(), MaxTotalDuration: p.MaxTotalDuration.text()}
	w.Approval.Required = p.Approval.Required
	w.Approval.ApproverGroupIDs = slices.Clone(p.Approval.ApproverGroupIDs)
	w.Approval.ApprovalsNeeded = p.Approval.ApprovalsNeeded
	w.Approval.Timeout = p.Approval.Timeout.text()
	return w
}

func (w wire) policy() (Policy, error) {
	p := Policy{Justification: w.Justification, Ticket: w.Ticket}
	p.Approval.Required = w.Approval.Required
	p.Approval.ApproverGroupIDs = w.Approval.ApproverGroupIDs
	p.Approval.ApprovalsNeeded = w.Approval.ApprovalsNeeded
	for _, f := range []struct {
		field, text string
		to          *Duration
	}{
		{"policy.max_duration", w.MaxDuration, &p.MaxDuration},
		{"policy.max_total_duration", w.MaxTotalDuration, &p.MaxTotalDuration},
		{"policy.approval.timeout", w.Approval.Timeout, &p.Approval.Timeout},
	} {
		d, err := parseDuration(f.text)
		if err != nil {
			return Policy{}, invalid(f.field, err.Error())
		}
		*f.to = d
	}
	return p, nil
}

// Parse reads a saved policy document.
func Parse(doc []byte) (Policy, error) {
	var p Policy
	if err := json.Unmarshal(doc, &p); err != nil {
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	return p.normalize(), nil
}

// Validate checks every field; the first problem is a *Error with code invalid_policy
// naming the field (e.g. "policy.ticket.pattern").
func (p Policy) Validate(lim Limits) error {
	if p.Justification != Required && p.Justification != Optional {
		return invalid("policy.justification", `must be "required" or "optional"`)
	}
	if p.Ticket.Pattern != "" {
		if _, err := regexp.Compile(p.Ticket.Pattern); err != nil {
			return invalid("policy.ticket.pattern", "is not a valid regular expression: "+err.Error())
		}
	}
	if len(p.Ticket.Label) > 100 {
		return invalid("policy.ticket.label", "must be at most 100 characters")
	}
	if err := checkDuration("policy.max_duration", time.Duration(p.MaxDuration), lim); err != nil {
		return err
	}
	if err := checkDuration("policy.max_total_duration", time.Duration(p.MaxTotalDuration), lim); err != nil {
		return err
	}
	if p.MaxDuration != 0 && p.MaxTotalDuration != 0 && p.MaxTotalDuration < p.MaxDuration {
		return invalid("policy.max_total_duration", "must not be shorter than max_duration")
	}
	a := p.Approval
	if !a.Required {
		return nil
	}
	if a.ApprovalsNeeded < 1 || a.ApprovalsNeeded > MaxApprovalsNeeded {
		return invalid("policy.approval.approvals_needed", fmt.Sprintf("must be between 1 and %d", MaxApprovalsNeeded))
	}
	if t := time.Duration(a.Timeout); t < time.Minute || t > MaxApprovalTimeout {
		return invalid("policy.approval.timeout", fmt.Sprintf("must be between 1m and %s", MaxApprovalTimeout))
	}
	seen := map[string]bool{}
	for _, g := range a.ApproverGroupIDs {
		if strings.TrimSpace(g) == "" || seen[g] {
			return invalid("policy.approval.approver_group_ids", "must list distinct, non-empty group ids")
		}
		seen[g] = true
	}
	return nil
}

func checkDuration(field string, d time.Duration, lim Limits) error {
	switch {
	case d == 0:
		return nil
	case d < 0:
		return invalid(field, "must be a positive duration")
	case lim.GlobalMin > 0 && d < lim.GlobalMin:
		return invalid(field, fmt.Sprintf("must be at least %s", lim.GlobalMin))
	case lim.GlobalMax > 0 && d > lim.GlobalMax:
		return invalid(field, fmt.Sprintf("must be at most the global maximum %s", lim.GlobalMax))
	}
	return nil
}

// Duration is a time.Duration written in JSON as a Go duration string ("4h0m0s"); "" and 0
// mean unset.
type Duration time.Duration

// MarshalJSON implements json.Marshaler: unset is "".
func (d Duration) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte(`""`), nil
	}
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"4h\"")
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Duration) text() string {
	if d == 0 {
		return ""
	}
	return time.Duration(d).String()
}

func parseDuration(s string) (Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"4h\"", s)
	}
	return Duration(v), nil
}

// decodeError names the field a JSON decoding error is about.
func decodeError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case asType(err, &typeErr):
		return invalid("policy."+typeErr.Field, "has the wrong type")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid("policy."+name, "is not a policy field")
	}
	return invalid("policy", err.Error())
}

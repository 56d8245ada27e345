package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// maxTicketReference bounds a ticket reference's length.
const maxTicketReference = 200

// Request is what a technician asks for, as the domain service received it.
type Request struct {
	Justification   string
	TicketReference string
	Duration        time.Duration // the requested duration, after defaulting
}

// CheckRequest applies the policy to a new request: justification_required,
// ticket_reference_invalid, duration_exceeds_policy. nil means the request may go on.
func (p Policy) CheckRequest(r Request) error {
	if p.Justification == Required && strings.TrimSpace(r.Justification) == "" {
		return &Error{Code: CodeJustificationRequired, Field: "justification",
			Message: "this application requires a justification"}
	}
	if err := p.Ticket.check(strings.TrimSpace(r.TicketReference)); err != nil {
		return err
	}
	if p.MaxDuration != 0 && r.Duration > time.Duration(p.MaxDuration) {
		return &Error{Code: CodeDurationExceedsPolicy, Field: "duration",
			Message: fmt.Sprintf("%s is longer than this application's maximum of %s", r.Duration, time.Duration(p.MaxDuration))}
	}
	return nil
}

func (t Ticket) check(ref string) error {
	label := t.Label
	if label == "" {
		label = "ticket reference"
	}
	switch {
	case ref == "" && t.Required:
		return &Error{Code: CodeTicketReferenceInvalid, Field: "ticket_reference",
			Message: fmt.Sprintf("this application requires a %s", label)}
	case ref == "":
		return nil
	case len(ref) > maxTicketReference:
		return &Error{Code: CodeTicketReferenceInvalid, Field: "ticket_reference",
			Message: fmt.Sprintf("the %s is longer than %d characters", label, maxTicketReference)}
	case t.Pattern != "":
		re, err := regexp.Compile(`^(?:` + t.Pattern + `)$`)
		if err != nil || !re.MatchString(ref) {
			return &Error{Code: CodeTicketReferenceInvalid, Field: "ticket_reference",
				Message: fmt.Sprintf("%q is not a valid %s (expected %s)", ref, label, t.Pattern)}
		}
	}
	return nil
}

// MaxRequestDuration is the longest duration a request may ask for: the policy's
// max_duration when set, else the application's access duration.
func (p Policy) MaxRequestDuration(accessDuration time.Duration) time.Duration {
	if p.MaxDuration != 0 {
		return time.Duration(p.MaxDuration)
	}
	return accessDuration
}

// Extension is an extension asked of an active grant.
type Extension struct {
	ActivatedAt time.Time
	ExpiresAt   time.Time // before the extension
	By          time.Duration
	// ApprovedTotal is the active time the approvers agreed to (the duration requested
	// when they approved); zero for a grant that needed no approval.
	ApprovedTotal time.Duration
}

// CheckExtension applies the policy to an extension: duration_exceeds_policy past
// max_total_duration, approval_required past the approved duration of a grant that needed
// approval. The global maximum stays the workflow's rule (duration_exceeds_maximum).
func (p Policy) CheckExtension(e Extension) error {
	total := e.ExpiresAt.Add(e.By).Sub(e.ActivatedAt)
	if p.MaxTotalDuration != 0 && total > time.Duration(p.MaxTotalDuration) {
		return &Error{Code: CodeDurationExceedsPolicy, Field: "duration",
			Message: fmt.Sprintf("the grant would last %s in total, longer than this application's maximum of %s", total, time.Duration(p.MaxTotalDuration))}
	}
	if p.Approval.Required && total > e.ApprovedTotal {
		return &Error{Code: CodeApprovalRequired, Field: "duration",
			Message: fmt.Sprintf("the grant was approved for %s; extending it to %s needs a new approved request", e.ApprovedTotal, total)}
	}
	return nil
}

// Approver is a member of staff asking to decide a request.
type Approver struct {
	ID   string
	Role string // "admin" or "technician"
	// GroupIDs are the groups of the grant's tenant the approver belongs to, "all-admins"
	// included when the approver is a member of the tenant.
	GroupIDs []string
}

// CheckApprover says whether a may decide a request of requesterID: never the requester
// (self_approval); a member of one of the approver groups, or an admin when the policy
// names none (not_approver).
func (p Policy) CheckApprover(requesterID string, a Approver) error {
	if a.ID == "" {
		return &Error{Code: CodeNotApprover, Message: "no approver named"}
	}
	if a.ID == requesterID {
		return &Error{Code: CodeSelfApproval, Message: "a request cannot be approved or denied by its requester"}
	}
	groups := p.Approval.ApproverGroupIDs
	if len(groups) == 0 {
		if a.Role == "admin" {
			return nil
		}
		return &Error{Code: CodeNotApprover, Message: "only an admin may decide this request"}
	}
	if slices.ContainsFunc(a.GroupIDs, func(g string) bool { return slices.Contains(groups, g) }) {
		return nil
	}
	return &Error{Code: CodeNotApprover, Message: "only members of the application's approver groups may decide this request"}
}

package workflows

import "time"

// The wording of summaries and reasons; the timeline (package timeline) speaks the same way.

// Plural is one when n is 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatTime is how summaries and reasons show a time: UTC, to the second.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

package bench

import (
	"math"
	"strings"

	"github.com/jitaccess/jitaccess/internal/bench/report"
)

// graphCount is what the emulator's /_sim/stats counted of Graph (a $batch is one round trip).
type graphCount struct {
	Total  int64            // every /v1.0/ round trip
	SignIn int64            // of which authentication methods, TAP and its policy
	By     map[string]int64 // per "METHOD /v1.0/route"
}

// countGraph keeps the Graph round trips of the emulator's counters: the identity platform's
// endpoints (token, authorize) and the emulator's own /_sim/ pages are not Graph.
func countGraph(requests map[string]int64) graphCount {
	c := graphCount{By: map[string]int64{}}
	for k, v := range requests {
		if !strings.Contains(k, " /v1.0/") {
			continue
		}
		c.Total += v
		c.By[k] = v
		if strings.Contains(k, "/authentication/") || strings.Contains(k, "/authenticationMethodsPolicy/") {
			c.SignIn += v
		}
	}
	return c
}

// Budgets with the Temporary Access Pass on (docs/performance.md): a new account costs adoption
// check, create, IssueTAP, assign (one $batch), DeleteTAP, the listing of every role assignment
// before the disable (issue #14: remove them all, not only those remembered) and the disable
// (one $batch) = 7; an existing one adds the cleaning before the enable = 8.
const (
	graphBudgetNewTAP      = 7
	graphBudgetExistingTAP = 8
)

// graphFigures are the graph scenario's figures: round trips per lifecycle with TAP on, and
// how many of them the sign-in steps (TAP, methods) take.
func graphFigures(newUser, existing graphCount, existingRuns int) []report.Figure {
	per := func(n int64) float64 { return float64(n) / float64(existingRuns) }
	return []report.Figure{
		report.NewFigure("Graph round trips, 3 roles, TAP on", "per lifecycle, new account", "", float64(newUser.Total), math.NaN(), report.Budget{Kind: "max", Limit: graphBudgetNewTAP}),
		report.NewFigure("Graph round trips, 3 roles, TAP on", "per lifecycle, existing account", "", per(existing.Total), math.NaN(), report.Budget{Kind: "max", Limit: graphBudgetExistingTAP}),
		report.NewFigure("Graph round trips, 3 roles, TAP on", "of which sign-in (TAP, methods), new account", "", float64(newUser.SignIn), math.NaN(), report.Budget{}),
		report.NewFigure("Graph round trips, 3 roles, TAP on", "of which sign-in (TAP, methods), existing account", "", per(existing.SignIn), math.NaN(), report.Budget{}),
	}
}

// Package report is what a benchmark run measured: figures beside their floor, judged by the
// budgets of SPEC §8, latency summaries, and the outputs (table, JSON, SVG chart).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Budget is a rule of SPEC §8 a figure is judged by.
type Budget struct {
	// Kind: "max_ratio" (product ≤ Limit × floor), "min_ratio" (product ≥ Limit × floor),
	// "max" (product ≤ Limit, absolute), "max_over" (product ≤ floor + Limit, in the figure's
	// unit), "" (reported, no budget).
	Kind  string  `json:"kind,omitempty"`
	Limit float64 `json:"limit,omitempty"`
}

func (b Budget) String() string {
	switch b.Kind {
	case "max_ratio":
		return fmt.Sprintf("≤ %g× floor", b.Limit)
	case "min_ratio":
		return fmt.Sprintf("≥ %g× floor", b.Limit)
	case "max":
		return fmt.Sprintf("≤ %g", b.Limit)
	case "max_over":
		return fmt.Sprintf("≤ floor + %g", b.Limit)
	}
	return "report"
}

// Figure is one measured quantity beside its floor.
type Figure struct {
	Scenario string   `json:"scenario"`
	Metric   string   `json:"metric"`
	Unit     string   `json:"unit"`
	Product  float64  `json:"product"`
	Floor    *float64 `json:"floor,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	Budget   Budget   `json:"budget"`
	Verdict  string   `json:"verdict"` // pass, FAIL, report, n/a
	Note     string   `json:"note,omitempty"`
}

// NewFigure computes the ratio and the verdict. floor may be NaN when there is none.
func NewFigure(scenario, metric, unit string, product, floor float64, b Budget) Figure {
	f := Figure{Scenario: scenario, Metric: metric, Unit: unit, Product: product, Budget: b}
	if !math.IsNaN(floor) {
		fl := floor
		f.Floor = &fl
		if floor != 0 {
			r := product / floor
			f.Ratio = &r
		}
	}
	f.Verdict = verdict(f)
	return f
}

func verdict(f Figure) string {
	switch f.Budget.Kind {
	case "max_ratio", "min_ratio":
		if f.Ratio == nil {
			return "n/a"
		}
		ok := *f.Ratio <= f.Budget.Limit
		if f.Budget.Kind == "min_ratio" {
			ok = *f.Ratio >= f.Budget.Limit
		}
		if ok {
			return "pass"
		}
		return "FAIL"
	case "max":
		if f.Product <= f.Budget.Limit {
			return "pass"
		}
		return "FAIL"
	case "max_over":
		if f.Floor == nil {
			return "n/a"
		}
		if f.Product <= *f.Floor+f.Budget.Limit {
			return "pass"
		}
		return "FAIL"
	}
	return "report"
}

// Series is a latency sample of one scenario, product and floor, for the chart (ms).
type Series struct {
	Scenario string    `json:"scenario"`
	Product  []float64 `json:"product_ms"`
	Floor    []float64 `json:"floor_ms"`
}

// Machine describes where the figures were taken.
type Machine struct {
	NProc       int    `json:"nproc"`
	MemTotalMiB int    `json:"mem_total_mib"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	LoadAvg     string `json:"loadavg_at_start"`
	LoadAvgEnd  string `json:"loadavg_at_end"`
}

// Report is everything one run measured.
type Report struct {
	Mode     string         `json:"mode"`     // quick or full
	Topology string         `json:"topology"` // dev or production
	Started  time.Time      `json:"started"`
	Elapsed  string         `json:"elapsed"`
	Machine  Machine        `json:"machine"`
	Config   map[string]any `json:"config"`
	Notes    []string       `json:"notes"`
	Figures  []Figure       `json:"figures"`
	Series   []Series       `json:"series"`
	Raw      map[string]any `json:"raw"`
	Failures []string       `json:"failures,omitempty"`
}

// WriteJSON writes the report, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the human table: each figure beside its floor, the ratio and the verdict.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "jitaccess bench (%s, %s topology) — %d CPUs, %d MiB, %s, load %s at start, started %s, took %s\n\n",
		r.Mode, r.Topology, r.Machine.NProc, r.Machine.MemTotalMiB, r.Machine.GoVersion, r.Machine.LoadAvg,
		r.Started.Format(time.RFC3339), r.Elapsed)
	if r.Machine.LoadAvgEnd != "" {
		fmt.Fprintf(w, "load average at the end: %s\n\n", r.Machine.LoadAvgEnd)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tproduct\tfloor\tratio\tbudget\tverdict")
	last := ""
	for _, f := range r.Figures {
		sc := f.Scenario
		if sc == last {
			sc = ""
		}
		last = f.Scenario
		floor, ratio := "—", "—"
		if f.Floor != nil {
			floor = formatValue(*f.Floor, f.Unit)
		}
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f×", *f.Ratio)
		}
		v := f.Verdict
		if f.Note != "" {
			v += " (" + f.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sc, f.Metric, formatValue(f.Product, f.Unit), floor, ratio, f.Budget, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	for _, f := range r.Failures {
		fmt.Fprintln(w, "error: "+f)
	}
	return nil
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		if v >= 10000 {
			return fmt.Sprintf("%.1f s", v/1000)
		}
		return fmt.Sprintf("%.0f ms", v)
	case "/s":
		return fmt.Sprintf("%.1f/s", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "%":
		return fmt.Sprintf("%.1f %%", v)
	case "":
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

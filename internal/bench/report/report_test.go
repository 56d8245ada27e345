package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cases := map[float64]float64{50: 5, 90: 9, 95: 10, 99: 10, 100: 10, 10: 1, 1: 1}
	for p, want := range cases {
		if got := Percentile(s, p); got != want {
			t.Errorf("p%g = %g, want %g", p, got, want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("empty sample: %g", got)
	}
	if got := Percentile([]float64{7}, 99); got != 7 {
		t.Errorf("single sample: %g", got)
	}
}

func TestSummarizeDoesNotReorderItsInput(t *testing.T) {
	in := []float64{30, 10, 20, 40}
	d := Summarize(in)
	if d.N != 4 || d.P50 != 20 || d.P99 != 40 || d.Max != 40 || d.Mean != 25 {
		t.Fatalf("summary %+v", d)
	}
	if in[0] != 30 || in[1] != 10 {
		t.Fatalf("input reordered: %v", in)
	}
	if (Summarize(nil) != Dist{}) {
		t.Fatal("empty sample must give the zero Dist")
	}
	if got := Millis([]time.Duration{1500 * time.Microsecond}); got[0] != 1.5 {
		t.Fatalf("Millis = %v", got)
	}
}

func TestFigureVerdicts(t *testing.T) {
	cases := []struct {
		product, floor float64
		b              Budget
		want           string
	}{
		{120, 100, Budget{Kind: "max_ratio", Limit: 1.3}, "pass"},
		{140, 100, Budget{Kind: "max_ratio", Limit: 1.3}, "FAIL"},
		{9, 10, Budget{Kind: "min_ratio", Limit: 0.8}, "pass"},
		{7, 10, Budget{Kind: "min_ratio", Limit: 0.8}, "FAIL"},
		{4, math.NaN(), Budget{Kind: "max", Limit: 4}, "pass"},
		{5, math.NaN(), Budget{Kind: "max", Limit: 4}, "FAIL"},
		{5, 0, Budget{Kind: "max_ratio", Limit: 1.3}, "n/a"},
		{5, 3, Budget{}, "report"},
		{120, 100, Budget{Kind: "max_over", Limit: 20}, "pass"},
		{121, 100, Budget{Kind: "max_over", Limit: 20}, "FAIL"},
		{5, math.NaN(), Budget{Kind: "max_over", Limit: 20}, "n/a"},
	}
	for _, c := range cases {
		f := NewFigure("s", "m", "ms", c.product, c.floor, c.b)
		if f.Verdict != c.want {
			t.Errorf("%g vs %g under %s: %s, want %s", c.product, c.floor, c.b, f.Verdict, c.want)
		}
	}
	f := NewFigure("s", "m", "", 3, math.NaN(), Budget{Kind: "max", Limit: 4})
	if f.Floor != nil || f.Ratio != nil {
		t.Fatal("no floor, no ratio")
	}
}

func sampleReport() *Report {
	return &Report{
		Mode:    "quick",
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Elapsed: "1m0s",
		Machine: Machine{NProc: 2, MemTotalMiB: 1024, GoVersion: "go1.26", LoadAvg: "1 1 1"},
		Figures: []Figure{
			NewFigure("lifecycle c=1", "request→active p50", "ms", 130, 100, Budget{Kind: "max_ratio", Limit: 1.3}),
			NewFigure("lifecycle c=1", "lifecycles/s", "/s", 10, 20, Budget{Kind: "min_ratio", Limit: 0.8}),
			NewFigure("Graph round trips", "per lifecycle", "", 3, math.NaN(), Budget{Kind: "max", Limit: 4}),
		},
		Series: []Series{
			{Scenario: "c=1 <&>", Product: []float64{3, 1, 2}, Floor: []float64{1, 1.5}},
			{Scenario: "empty"},
		},
		Notes:    []string{"a note"},
		Failures: []string{"expiry: boom"},
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"request→active p50", "130 ms", "100 ms", "1.30×", "≤ 1.3× floor", "pass",
		"0.50×", "FAIL", "3.00", "≤ 4", "note: a note", "error: expiry: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The scenario is printed once per group.
	if strings.Count(out, "lifecycle c=1") != 1 {
		t.Errorf("scenario repeated:\n%s", out)
	}
}

func TestWriteJSONRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Figures) != 3 || back.Figures[0].Ratio == nil || back.Figures[2].Floor != nil || back.Figures[1].Verdict != "FAIL" {
		t.Fatalf("figures %+v", back.Figures)
	}
	if back.Series[0].Product[0] != 3 {
		t.Fatalf("series %+v", back.Series)
	}
}

func TestWriteSVGIsWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	paths, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "path" {
				paths++
			}
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	if paths != 2 {
		t.Errorf("%d CDF paths, want 2 (product and floor of the one non-empty series)", paths)
	}
	if !strings.Contains(strings.Join(texts, "|"), "c=1 <&>") {
		t.Errorf("scenario title not escaped and shown: %v", texts)
	}
	// An empty report still renders.
	var e bytes.Buffer
	if err := (&Report{Mode: "quick"}).WriteSVG(&e); err != nil || !strings.Contains(e.String(), "no latency samples") {
		t.Fatalf("empty SVG: %v %s", err, e.String())
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.5: 1, 3: 5, 10: 10, 11: 20, 420: 500, 5001: 10000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%g) = %g, want %g", in, got, want)
		}
	}
}

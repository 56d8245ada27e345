package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
)

// WriteSVG draws the latency distributions as empirical CDFs, one panel per scenario:
// the product as a solid line, the floor dashed. Hand-written SVG, no dependencies.
func (r *Report) WriteSVG(w io.Writer) error {
	const (
		cols     = 2
		panelW   = 460
		panelH   = 260
		padL     = 56
		padR     = 16
		padT     = 34
		padB     = 40
		headerH  = 40
		legendW  = 220
		fontAttr = `font-family="sans-serif" font-size="11"`
	)
	series := make([]Series, 0, len(r.Series))
	for _, s := range r.Series {
		if len(s.Product)+len(s.Floor) > 0 {
			series = append(series, s)
		}
	}
	rows := (len(series) + cols - 1) / cols
	width, height := cols*panelW, headerH+max(rows, 1)*panelH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>`+"\n", width, height, width, height, fontAttr)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14" font-weight="bold">%s</text>`+"\n",
		html.EscapeString(fmt.Sprintf("jitaccess bench (%s): latency CDFs, product vs Temporal floor", r.Mode)))
	lx := width - legendW
	fmt.Fprintf(&b, `<line x1="%d" y1="30" x2="%d" y2="30" stroke="#1f77b4" stroke-width="2"/><text x="%d" y="33">product</text>`+"\n", lx, lx+24, lx+28)
	fmt.Fprintf(&b, `<line x1="%d" y1="30" x2="%d" y2="30" stroke="#555" stroke-width="2" stroke-dasharray="5,3"/><text x="%d" y="33">floor</text>`+"\n", lx+90, lx+114, lx+118)
	if len(series) == 0 {
		fmt.Fprintf(&b, `<text x="10" y="%d">no latency samples</text>`+"\n", headerH+20)
	}
	for i, s := range series {
		x0 := (i % cols) * panelW
		y0 := headerH + (i/cols)*panelH
		plotW := float64(panelW - padL - padR)
		plotH := float64(panelH - padT - padB)
		maxV := 0.0
		for _, v := range append(append([]float64(nil), s.Product...), s.Floor...) {
			maxV = math.Max(maxV, v)
		}
		maxV = niceCeil(maxV)
		px := func(v float64) float64 { return float64(x0+padL) + v/maxV*plotW }
		py := func(q float64) float64 { return float64(y0+padT) + (1-q)*plotH }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0+padL, y0+padT-10, html.EscapeString(s.Scenario))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", x0+padL, y0+padT, plotW, plotH)
		for k := 0; k <= 4; k++ {
			v := maxV * float64(k) / 4
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, px(v), py(0), px(v), py(1))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(v), py(0)+14, trimFloat(v))
			q := float64(k) / 4
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", px(0)-4, py(q)+4, trimFloat(q))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">ms</text>`+"\n", px(maxV/2), py(0)+30)
		b.WriteString(cdfPath(s.Floor, px, py, `stroke="#555" stroke-dasharray="5,3"`))
		b.WriteString(cdfPath(s.Product, px, py, `stroke="#1f77b4"`))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// cdfPath is the step function of the empirical CDF of sample.
func cdfPath(sample []float64, px func(float64) float64, py func(float64) float64, style string) string {
	if len(sample) == 0 {
		return ""
	}
	s := append([]float64(nil), sample...)
	sort.Float64s(s)
	var p strings.Builder
	fmt.Fprintf(&p, "M%.1f,%.1f", px(s[0]), py(0))
	for i, v := range s {
		fmt.Fprintf(&p, " L%.1f,%.1f L%.1f,%.1f", px(v), py(float64(i)/float64(len(s))), px(v), py(float64(i+1)/float64(len(s))))
	}
	return fmt.Sprintf(`<path d="%s" fill="none" stroke-width="1.6" %s/>`+"\n", p.String(), style)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*exp >= v {
			return m * exp
		}
	}
	return 10 * exp
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

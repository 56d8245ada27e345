package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// WritePDF writes r as a landscape A4 PDF: a summary with two charts (grants per day, time
// held per technician), then the grants, denied requests and drift findings.
func WritePDF(w io.Writer, r Report) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	pdf.SetTitle("jitaccess access report "+r.TenantName, true)
	pdf.SetAuthor("jitaccess", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 6, tr(fmt.Sprintf("%s - %s to %s - page %d", r.TenantName, day(r.From), day(r.To.Add(-time.Second)), pdf.PageNo())), "", 0, "C", false, 0, "")
	})

	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 10, tr("Privileged access report: "+r.TenantName), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	var held time.Duration
	for _, g := range r.Grants {
		held += g.Held()
	}
	for _, line := range []string{
		fmt.Sprintf("Tenant %s, period %s to %s (UTC), generated %s.", r.TenantID, day(r.From), day(r.To.Add(-time.Second)), r.GeneratedAt.Format(time.RFC3339)),
		fmt.Sprintf("Grants: %d. Time held: %s. Denied requests: %d. Drift findings: %d.", len(r.Grants), hours(held), len(r.Denied), len(r.Drift)),
		"Proof of disable: the time the directory was read back showing the account disabled and its roles gone, with the audit event (id, chain sequence number) that records it.",
	} {
		pdf.MultiCell(0, 5, tr(line), "", "L", false)
	}
	pdf.Ln(3)
	y, h := pdf.GetY(), 62.0
	barChart(pdf, tr, 10, y, 135, h, "Grants per day", r.GrantsPerDay())
	heldChart(pdf, tr, 152, y, 135, h, "Hours held per technician", r.HeldPerTechnician())

	pdf.SetY(y + h + 6)
	section(pdf, tr, "Grants")
	// 277 mm in all: the width of landscape A4 inside its 10 mm margins.
	cols := []col{{"Technician", 36}, {"Application", 28}, {"Roles", 35}, {"Ticket / justification", 41}, {"Approver", 26},
		{"Requested", 22}, {"Active", 22}, {"Ended", 22}, {"Outcome", 15}, {"Disabled (proof)", 30}}
	header(pdf, tr, cols)
	for _, g := range r.Grants {
		just := strings.TrimSpace(strings.TrimSpace(g.Ticket + " " + g.Justification))
		proof := clock(g.DisabledAt)
		if g.ProofSeq > 0 {
			proof += fmt.Sprintf(" #%d", g.ProofSeq)
		}
		tableRow(pdf, tr, cols, []string{g.Technician, g.Application, strings.Join(g.Roles, ", "), just, g.Approver,
			clock(g.RequestedAt), clock(g.ActivatedAt), clock(g.EndedAt), g.Outcome, proof})
	}
	if len(r.Grants) == 0 {
		pdf.CellFormat(0, 6, "No grants in this period.", "", 1, "L", false, 0, "")
	}
	for _, s := range []struct {
		title  string
		events []Event
	}{{"Denied requests", r.Denied}, {"Drift findings", r.Drift}} {
		pdf.Ln(4)
		section(pdf, tr, s.title)
		ecols := []col{{"Time", 30}, {"Action", 45}, {"Actor", 50}, {"Target", 45}, {"Detail", 97}, {"Event", 10}}
		header(pdf, tr, ecols)
		for _, e := range s.events {
			tableRow(pdf, tr, ecols, []string{clock(e.At), e.Action, e.Actor, e.Target, e.Detail, fmt.Sprint(e.Seq)})
		}
		if len(s.events) == 0 {
			pdf.CellFormat(0, 6, "None.", "", 1, "L", false, 0, "")
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("report pdf: %w", err)
	}
	return nil
}

type col struct {
	title string
	width float64
}

func section(pdf *fpdf.Fpdf, tr func(string) string, title string) {
	pdf.SetFont("Helvetica", "B", 13)
	pdf.CellFormat(0, 8, tr(title), "", 1, "L", false, 0, "")
}

func header(pdf *fpdf.Fpdf, tr func(string) string, cols []col) {
	pdf.SetFont("Helvetica", "B", 8)
	pdf.SetFillColor(225, 230, 240)
	for _, c := range cols {
		pdf.CellFormat(c.width, 6, tr(c.title), "1", 0, "L", true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 7.5)
}

// tableRow writes one row, each cell cut to fit its column on one line.
func tableRow(pdf *fpdf.Fpdf, tr func(string) string, cols []col, vals []string) {
	if pdf.GetY() > 185 {
		pdf.AddPage()
		header(pdf, tr, cols)
	}
	for i, c := range cols {
		pdf.CellFormat(c.width, 5.5, fit(pdf, tr(vals[i]), c.width-1.5), "1", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
}

func fit(pdf *fpdf.Fpdf, s string, width float64) string {
	if pdf.GetStringWidth(s) <= width {
		return s
	}
	for len(s) > 0 && pdf.GetStringWidth(s+"...") > width {
		s = s[:len(s)-1]
	}
	return s + "..."
}

func barChart(pdf *fpdf.Fpdf, tr func(string) string, x, y, w, h float64, title string, days []DayCount) {
	pdf.SetFont("Helvetica", "B", 11)
	pdf.Text(x, y+4, tr(title))
	top, bottom := y+10, y+h-8
	maxN := 1
	for _, d := range days {
		maxN = max(maxN, d.Count)
	}
	pdf.SetDrawColor(120, 120, 120)
	pdf.Line(x+8, bottom, x+w, bottom)
	pdf.Line(x+8, top, x+8, bottom)
	pdf.SetFont("Helvetica", "", 7)
	pdf.Text(x, top+2, fmt.Sprint(maxN))
	pdf.Text(x+4, bottom, "0")
	if len(days) == 0 {
		return
	}
	slot := (w - 10) / float64(len(days))
	pdf.SetFillColor(45, 105, 180)
	for i, d := range days {
		bh := (bottom - top) * float64(d.Count) / float64(maxN)
		bx := x + 9 + float64(i)*slot
		if d.Count > 0 {
			pdf.Rect(bx, bottom-bh, slot*0.75, bh, "F")
		}
		if len(days) <= 10 || i%5 == 0 {
			pdf.Text(bx, bottom+4, d.Day.Format("02"))
		}
	}
	pdf.Text(x+8, bottom+8, tr("day of "+days[0].Day.Format("January 2006")+" (UTC)"))
}

func heldChart(pdf *fpdf.Fpdf, tr func(string) string, x, y, w, h float64, title string, held []Holding) {
	pdf.SetFont("Helvetica", "B", 11)
	pdf.Text(x, y+4, tr(title))
	if len(held) > 10 {
		held = held[:10]
	}
	var maxH time.Duration = time.Hour
	for _, hh := range held {
		maxH = max(maxH, hh.Held)
	}
	pdf.SetFont("Helvetica", "", 7)
	label, barW := 45.0, w-45-18
	row := min(7.0, (h-10)/float64(max(1, len(held))))
	pdf.SetFillColor(60, 150, 110)
	for i, hh := range held {
		ry := y + 10 + float64(i)*row
		pdf.Text(x, ry+row*0.7, fit(pdf, tr(hh.Technician), label-2))
		bw := barW * float64(hh.Held) / float64(maxH)
		if bw > 0 {
			pdf.Rect(x+label, ry+0.8, bw, row-1.6, "F")
		}
		pdf.Text(x+label+bw+1.5, ry+row*0.7, hours(hh.Held))
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("01-02 15:04:05")
}

func hours(d time.Duration) string { return fmt.Sprintf("%.1f h", d.Hours()) }

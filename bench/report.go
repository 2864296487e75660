package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Stat is a set of samples of one measurement.
type Stat struct{ Samples []float64 }

// Add records one sample.
func (s *Stat) Add(v float64) { s.Samples = append(s.Samples, v) }

// Median is the middle sample (the mean of the two middle ones for an even count).
func (s Stat) Median() float64 {
	if len(s.Samples) == 0 {
		return 0
	}
	v := slices.Sorted(slices.Values(s.Samples))
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Min and Max bound the spread.
func (s Stat) Min() float64 {
	if len(s.Samples) == 0 {
		return 0
	}
	return slices.Min(s.Samples)
}

func (s Stat) Max() float64 {
	if len(s.Samples) == 0 {
		return 0
	}
	return slices.Max(s.Samples)
}

// Row is one line of the results table. A target is Min (the median must be at least it) or
// Max (at most it); zero means none.
type Row struct {
	Section, Name string
	Value         Stat
	Unit          string
	Min, Max      float64
}

// Status is "met", "MISSED", or "" for a row without a target.
func (r Row) Status() string {
	m := r.Value.Median()
	switch {
	case r.Min != 0 && m >= r.Min, r.Max != 0 && m <= r.Max:
		return "met"
	case r.Min != 0 || r.Max != 0:
		return "MISSED"
	}
	return ""
}

// Target is the row's target as text.
func (r Row) Target() string {
	u := r.Unit
	if u != "x" {
		u = " " + u
	}
	switch {
	case r.Min != 0:
		return fmt.Sprintf(">= %s%s", num(r.Min), u)
	case r.Max != 0:
		return fmt.Sprintf("<= %s%s", num(r.Max), u)
	}
	return ""
}

// Results are the rows of one run and the load average around it.
type Results struct {
	Rows                  []Row
	LoadBefore, LoadAfter string
}

func (r *Results) add(row Row) { r.Rows = append(r.Rows, row) }

func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Print writes the results as a Markdown table, one section after another.
func (r *Results) Print(w io.Writer) {
	fmt.Fprintf(w, "load average (1, 5, 15 min): before %s, after %s\n\n", strings.TrimSpace(r.LoadBefore), strings.TrimSpace(r.LoadAfter))
	fmt.Fprintln(w, "| measurement | median | spread (min–max) | n | target | |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	section := ""
	for _, row := range r.Rows {
		if row.Section != section {
			section = row.Section
			fmt.Fprintf(w, "| **%s** | | | | | |\n", section)
		}
		u := row.Unit
		if u != "x" {
			u = " " + u
		}
		fmt.Fprintf(w, "| %s | %s%s | %s–%s | %d | %s | %s |\n", row.Name, num(row.Value.Median()), u,
			num(row.Value.Min()), num(row.Value.Max()), len(row.Value.Samples), row.Target(), row.Status())
	}
}

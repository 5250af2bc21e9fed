package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "benchplot:", err)
		}
		os.Exit(2)
	}
}

// result is the part of chatbench's JSON result that the charts use.
type result struct {
	Label               string  `json:"label"`
	Server              string  `json:"server"`
	N                   int     `json:"n"`
	Stall               int     `json:"stall"`
	P50                 float64 `json:"p50_ms"`
	P95                 float64 `json:"p95_ms"`
	P99                 float64 `json:"p99_ms"`
	RSSIdleKBPerSession float64 `json:"rss_idle_kb_per_session"`
	CPUMsPerDelivery    float64 `json:"cpu_ms_per_delivery"`
	LoginS              float64 `json:"login_s"`

	rank int // position of its label in -label: lower wins
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchplot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	label := fs.String("label", "scale", "use only results with these labels, comma-separated; for one server and N the first label listed wins (empty: all)")
	out := fs.String("out", "docs", "folder for the PNG files")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: benchplot [-label L] [-out DIR] RESULT.json|GLOB...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var labels []string
	if *label != "" {
		labels = strings.Split(*label, ",")
	}
	results, err := load(fs.Args(), labels)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no results with label %q in %q", *label, fs.Args())
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", *out, err)
	}
	series := byServer(results)
	charts := []struct {
		file string
		draw func(map[string][]result) (*plot.Plot, error)
	}{
		{"bench-latency.png", latencyChart},
		{"bench-memory.png", memoryChart},
		{"bench-cpu.png", cpuChart},
	}
	for _, c := range charts {
		p, err := c.draw(series)
		if err != nil {
			return fmt.Errorf("%s: %w", c.file, err)
		}
		// Room above the data for the legend (the axis is logarithmic).
		p.Y.Max *= 8
		p.Y.Min /= 1.5
		path := filepath.Join(*out, c.file)
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			return fmt.Errorf("save %s: %w", path, err)
		}
		fmt.Fprintln(stderr, "wrote", path)
	}
	return nil
}

// load reads results from files and glob patterns, keeping those with one
// of labels (all when there are none), ranked by the label's position.
func load(patterns []string, labels []string) ([]result, error) {
	var out []result
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", pat, err)
		}
		if files == nil {
			return nil, fmt.Errorf("no file matches %q", pat)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read result: %w", err)
			}
			var r result
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, fmt.Errorf("parse %s: %w", f, err)
			}
			if len(labels) == 0 {
				out = append(out, r)
			} else if i := slices.Index(labels, r.Label); i >= 0 {
				r.rank = i
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// byServer groups results by server, each sorted by N; of several runs at
// the same N, the best-ranked wins, and of those the last one read.
func byServer(rs []result) map[string][]result {
	m := make(map[string][]result)
	for _, r := range rs {
		list := m[r.Server]
		if i := slices.IndexFunc(list, func(o result) bool { return o.N == r.N }); i >= 0 {
			if r.rank <= list[i].rank {
				list[i] = r
			}
		} else {
			list = append(list, r)
		}
		m[r.Server] = list
	}
	for k := range m {
		slices.SortFunc(m[k], func(a, b result) int { return a.N - b.N })
	}
	return m
}

func servers(m map[string][]result) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	// chatroom first, so it keeps the first colour.
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "chatroom":
			return -1
		case b == "chatroom":
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	return names
}

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
}

var grey = color.RGBA{R: 0x88, G: 0x88, B: 0x88, A: 0xff}

// newLogLog is a chart over N with logarithmic axes.
func newLogLog(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "clients in one room (N)"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{labelAll: true}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// logTicks puts ticks at 1, 2, 5 × powers of ten, labelling the powers of
// ten, or all of them.
type logTicks struct{ labelAll bool }

func (lt logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for dec := 1e-3; dec <= hi*10; dec *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := m * dec
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || lt.labelAll {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// addLine adds a line with points through (N, y) for every result with
// y > 0 (a log axis cannot show zero).
func addLine(p *plot.Plot, name string, rs []result, y func(result) float64, c color.Color, dashes []vg.Length, glyph draw.GlyphDrawer) error {
	var xys plotter.XYs
	for _, r := range rs {
		if v := y(r); v > 0 {
			xys = append(xys, plotter.XY{X: float64(r.N), Y: v})
		}
	}
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("line %s: %w", name, err)
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	s.Color = c
	s.Shape = glyph
	s.Radius = vg.Points(3)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// addTarget marks a target value at one N with a grey cross.
func addTarget(p *plot.Plot, name string, pts plotter.XYs) error {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("target %s: %w", name, err)
	}
	s.Color = grey
	s.Shape = draw.CrossGlyph{}
	s.Radius = vg.Points(5)
	p.Add(s)
	p.Legend.Add(name, s)
	return nil
}

func latencyChart(m map[string][]result) (*plot.Plot, error) {
	p := newLogLog("Delivery latency (first visible on screen)", "milliseconds")
	for i, name := range servers(m) {
		c := palette[i%len(palette)]
		lines := []struct {
			what   string
			y      func(result) float64
			dashes []vg.Length
			glyph  draw.GlyphDrawer
		}{
			{"p50", func(r result) float64 { return r.P50 }, nil, draw.CircleGlyph{}},
			{"p95", func(r result) float64 { return r.P95 }, []vg.Length{vg.Points(6), vg.Points(3)}, draw.SquareGlyph{}},
			{"p99", func(r result) float64 { return r.P99 }, []vg.Length{vg.Points(2), vg.Points(2)}, draw.TriangleGlyph{}},
		}
		for _, l := range lines {
			if err := addLine(p, name+" "+l.what, m[name], l.y, c, l.dashes, l.glyph); err != nil {
				return nil, err
			}
		}
	}
	if err := addTarget(p, "target p99", plotter.XYs{{X: 10, Y: 12}, {X: 100, Y: 50}}); err != nil {
		return nil, err
	}
	return p, nil
}

func memoryChart(m map[string][]result) (*plot.Plot, error) {
	p := newLogLog("Server memory per idle session (RSS growth ÷ N)", "KB per session")
	for i, name := range servers(m) {
		if err := addLine(p, name, m[name], func(r result) float64 { return r.RSSIdleKBPerSession }, palette[i%len(palette)], nil, draw.CircleGlyph{}); err != nil {
			return nil, err
		}
	}
	if err := addTarget(p, "target at N=100 (1.6 MB)", plotter.XYs{{X: 100, Y: 1600}}); err != nil {
		return nil, err
	}
	return p, nil
}

func cpuChart(m map[string][]result) (*plot.Plot, error) {
	p := newLogLog("Server CPU per delivered line per receiving session", "CPU milliseconds")
	for i, name := range servers(m) {
		if err := addLine(p, name, m[name], func(r result) float64 { return r.CPUMsPerDelivery }, palette[i%len(palette)], nil, draw.CircleGlyph{}); err != nil {
			return nil, err
		}
	}
	if err := addTarget(p, "target (0.85 ms)", plotter.XYs{{X: 100, Y: 0.85}}); err != nil {
		return nil, err
	}
	return p, nil
}

// Command benchplot draws the charts in BENCHMARKS.md from the JSON results
// that cmd/chatbench writes (-json FILE), so the charts are regenerated from
// measurements, never drawn by hand.
//
// It reads every result given on the command line (files or glob patterns),
// keeps those whose label matches -label, groups them by server, and writes
// PNG charts into -out: delivery latency percentiles against the number of
// clients, server memory per idle session against N, and server CPU per
// delivered line per receiving session against N. Both axes of a chart over
// N are logarithmic, so 10, 100 and 1,000 clients sit evenly apart.
//
// It owns nothing but the drawing: the figures come from chatbench unchanged.
//
// It is a module of its own, so that gonum/plot and what it needs (fonts, PDF
// and LaTeX support, about 30 modules) stay out of the server's go.mod. Run it
// from the repository root with go run -C cmd/benchplot . (paths are then
// relative to cmd/benchplot).
package main

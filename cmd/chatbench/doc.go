// Command chatbench is a load tool for SSH chat servers: it drives a server
// the way people do and measures what they would notice.
//
// It opens N SSH sessions with PTYs (or without, in line mode). Each session's
// output is fed into a terminal emulator (x/vt), because a diffing renderer
// never writes a token contiguously: the tool reads the visible screen, as a
// person does. A small login script per client waits for text and types keys.
// Then S senders post messages carrying unique tokens at a set rate, and every
// emulating receiver records when each token first became visible. Only K
// receivers emulate; the rest just drain their output and count bytes, so the
// tool's own CPU stays small at large N.
//
// It reports delivery latency (p50/p95/p99/max), lost messages, wire bytes per
// message per client, the time for N sessions to connect and log in, and, when
// it starts the server itself (-server) or is told its PID (-pid), the
// server's memory per session (VmRSS from /proc before and after the logins,
// and the peak during them) and its CPU time per delivered line per
// receiving session. It can also stall K clients (stop reading their TCP
// connection) to show what a frozen reader does to everyone else.
//
// The last line printed is one summary of key=value pairs; -json FILE writes
// the full result for cmd/benchplot.
//
// This package owns only the tool: it imports nothing from the server and
// talks to it over SSH like any client.
package main

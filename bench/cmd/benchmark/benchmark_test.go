package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	samples := []uint32{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	tests := []struct {
		q    float64
		want uint32
	}{
		{0, 10},
		{0.5, 50},
		{0.99, 100},
		{1, 100},
	}
	for _, tt := range tests {
		if got := percentile(samples, tt.q); got != tt.want {
			t.Errorf("percentile(q=%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of no samples = %d, want 0", got)
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct {
		v, wantMax, wantStep float64
	}{
		{7.3, 10, 2},
		{13, 20, 4},
		{40, 50, 10},
		{0, 1, 0.2},
	}
	for _, tt := range tests {
		if gotMax, gotStep := niceAxis(tt.v); gotMax != tt.wantMax || gotStep != tt.wantStep {
			t.Errorf("niceAxis(%v) = %v, %v, want %v, %v", tt.v, gotMax, gotStep, tt.wantMax, tt.wantStep)
		}
	}
}

func TestAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.6.0", true},
		{"6.18.44-fc-v1252", true},
		{"6.1.0-50-amd64", false},
		{"5.19", false},
		{"7.0", true},
	}
	for _, tt := range tests {
		if got := atLeast(tt.release, 6, 6); got != tt.want {
			t.Errorf("atLeast(%q, 6, 6) = %v, want %v", tt.release, got, tt.want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	got, err := parseCounts("1, 10,1000")
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 10 || got[2] != 1000 {
		t.Errorf("parseCounts = %v, %v, want [1 10 1000]", got, err)
	}
	for _, bad := range []string{"", "0", "-1", "1,x"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("parseCounts(%q) succeeded, want an error", bad)
		}
	}
}

// testReport returns a report with two implementations and made-up samples.
func testReport() *report {
	c := implementation{Name: "c", Label: "C reference"}
	cp := implementation{Name: "c-poll", Label: "C, poll then RECV", RoundTripOnly: true}
	l := implementation{Name: "listener", Label: "seccomp.Listener"}
	lib := implementation{Name: "libseccomp", Label: "libseccomp-golang"}
	rt := func(impl implementation, sync bool, base uint32) *roundTrip {
		samples := make([]uint32, 100)
		for i := range samples {
			samples[i] = base + uint32(i)
		}
		return &roundTrip{Impl: impl, SyncWakeUp: sync, Samples: samples, RunMedians: []float64{float64(base + 50)}, Allocs: 0}
	}
	return &report{
		env:   machine{Kernel: "6.18.0", CPUs: 2, GOMAXPROCS: 2, SyncWakeUp: true, Command: "bench/run -docs"},
		opts:  options{runs: 1, calls: 100, scaleRuns: 1, scaleCalls: 100},
		impls: []implementation{c, cp, l, lib},
		roundTrips: []*roundTrip{
			rt(c, false, 4000), rt(c, true, 4000),
			rt(cp, false, 4100), rt(cp, true, 4100),
			rt(l, false, 4200), rt(l, true, 4200),
			rt(lib, false, 5000), rt(lib, true, 5000),
		},
		scale: []*scalePoint{
			{Impl: c, Targets: 1000, Throughput: 100, ThreadsIdle: 1, ThreadsEnd: 1},
			{Impl: l, Targets: 1000, Throughput: 110, ThreadsIdle: 4, ThreadsEnd: 6},
		},
	}
}

func TestChecks(t *testing.T) {
	for _, c := range testReport().checks() {
		if !c.ok {
			t.Errorf("check failed on data that meets every target: %s", c.text)
		}
	}
}

func TestWriteDocs(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	chart := filepath.Join(dir, "chart.png")
	handWritten := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nold results\n" + endMarker + "\n\nanalysis\n"
	if err := os.WriteFile(doc, []byte(handWritten), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := testReport().writeDocs(doc, chart); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"intro", "analysis", "| seccomp.Listener | default | 4.25 |", "(chart.png)", "C poll then RECV (default): 4.25 µs / 4.15 µs = 1.02×"} {
		if !strings.Contains(text, want) {
			t.Errorf("document lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "old results") {
		t.Errorf("document still has the old generated part:\n%s", text)
	}

	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("chart is not a PNG: %v", err)
	}
}

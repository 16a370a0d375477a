package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

var (
	white       = color.RGBA{255, 255, 255, 255}
	black       = color.RGBA{30, 30, 30, 255}
	gray        = color.RGBA{120, 120, 120, 255}
	lightGray   = color.RGBA{225, 225, 225, 255}
	defaultBlue = color.RGBA{60, 110, 180, 255}
	syncOrange  = color.RGBA{225, 130, 40, 255}
)

// writeChart draws the round trips of r as a horizontal bar chart: one
// group per implementation, a bar per wake-up mode whose length is the
// median and a line that reaches the p99, and writes it as PNG to path.
func writeChart(path string, r *report) error {
	const (
		scale   = 2
		width   = 1100
		left    = 300 // labels
		right   = 250 // values
		top     = 110
		barH    = 20
		barGap  = 6
		groupH  = 2*barH + barGap + 26
		axisGap = 16
	)
	modes := r.syncModes()
	plotW := width - left - right
	height := top + len(r.impls)*groupH + axisGap + 50

	var maxMedian, maxP99 float64
	for _, rt := range r.roundTrips {
		maxMedian = max(maxMedian, micros(percentile(rt.Samples, 0.5)))
		maxP99 = max(maxP99, micros(percentile(rt.Samples, 0.99)))
	}
	xMax, step := niceAxis(min(maxP99, 3*maxMedian))
	xOf := func(us float64) int { return left + int(math.Round(min(us, xMax)/xMax*float64(plotW))) }

	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fillRect(img, 0, 0, width, height, white)
	drawText(img, 20, 16, "Round trip per intercepted getppid, one target (lower is better)", scale, black)
	drawText(img, 20, 42, fmt.Sprintf("Linux %s, %d CPUs, load %s. Bar: median. Line: p99.", r.env.Kernel, r.env.CPUs, r.env.LoadStart), scale, gray)
	fillRect(img, 20, 72, 14, 14, defaultBlue)
	drawText(img, 42, 72, "default wake-up", scale, black)
	if len(modes) > 1 {
		fillRect(img, 260, 72, 14, 14, syncOrange)
		drawText(img, 282, 72, "SYNC_WAKE_UP", scale, black)
	}

	plotBottom := top + len(r.impls)*groupH
	for v := 0.0; v <= xMax+step/2; v += step {
		x := xOf(v)
		fillRect(img, x, top-8, 1, plotBottom-top+8, lightGray)
		label := fmt.Sprintf("%g", v)
		drawText(img, x-textWidth(label, scale)/2, plotBottom+axisGap, label, scale, gray)
	}
	unit := "microseconds"
	drawText(img, left+plotW/2-textWidth(unit, scale)/2, plotBottom+axisGap+24, unit, scale, gray)

	for i, impl := range r.impls {
		y := top + i*groupH
		drawText(img, 20, y+barH-4, shortLabel(impl.Name), scale, black)
		for j, sync := range modes {
			rt := r.find(impl.Name, sync)
			if rt == nil {
				continue
			}
			c := defaultBlue
			if sync {
				c = syncOrange
			}
			by := y + j*(barH+barGap)
			median, p99 := micros(percentile(rt.Samples, 0.5)), micros(percentile(rt.Samples, 0.99))
			fillRect(img, left, by, xOf(median)-left, barH, c)
			fillRect(img, xOf(median), by+barH/2-1, xOf(p99)-xOf(median), 3, gray)
			fillRect(img, xOf(p99)-1, by+2, 3, barH-4, gray)
			if p99 > xMax {
				drawText(img, xOf(p99)+4, by+3, ">", scale, gray)
			}
			value := fmt.Sprintf("%.2f  p99 %.1f", median, p99)
			drawText(img, left+plotW+30, by+3, value, scale, black)
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shortLabel returns the chart's label for an implementation.
func shortLabel(name string) string {
	switch name {
	case "c":
		return "C reference"
	case "c-poll":
		return "C, poll then RECV"
	case "listener":
		return "Listener (poller)"
	case "blocking":
		return "Recv/Send (thread)"
	case "libseccomp":
		return "libseccomp-golang"
	}
	return name
}

// niceAxis returns an axis maximum of at least v and a tick step, both
// 1, 2 or 5 times a power of ten.
func niceAxis(v float64) (float64, float64) {
	if v <= 0 {
		return 1, 0.2
	}
	magnitude := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*magnitude >= v {
			top := m * magnitude
			return top, top / 5
		}
	}
	return 10 * magnitude, 2 * magnitude
}

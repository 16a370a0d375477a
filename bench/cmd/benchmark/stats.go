package main

import (
	"slices"
)

// sortSamples sorts s in place and returns it.
func sortSamples(s []uint32) []uint32 {
	slices.Sort(s)
	return s
}

// percentile returns the sample at quantile q (0 to 1) of sorted samples,
// by the nearest-rank method, or 0 for no samples.
func percentile(sorted []uint32, q float64) uint32 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.5) - 1
	rank = min(max(rank, 0), len(sorted)-1)
	return sorted[rank]
}

func medianFloat(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

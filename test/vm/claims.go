package main

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// minNone is the min value of a feature that no released kernel has. The only such
// features the module tests come from the proposed nested-listener series (such as "nested
// listeners" and "flag ALLOW_NESTED_LISTENERS"). So kernels marked nested_listeners in
// kernels.json must run every feature with min=none, and all other kernels must skip it.
const minNone = "none"

// featureClaim is one line printed by the module's feature-skip helper:
//
//	seccomp-feature: name=<feature> min=<version or none> kernel=<uname release> result=<run|skip>
//
// The helper may print it through t.Log, so the line can start with a file name and line.
type featureClaim struct {
	Name   string
	Min    string
	Kernel string
	Result string // "run" or "skip"
}

// Feature names may contain spaces ("nested listeners"), so the name ends at " min=".
var featureLine = regexp.MustCompile(`seccomp-feature: name=(.+?) min=(\S+) kernel=(\S+) result=(\S+)\s*$`)

const featureLineMarker = "seccomp-feature:"

// parseFeatureLine finds a feature claim in a console line. It returns ok false for a line
// without "seccomp-feature:", and an error for one that has it but does not match the
// format.
func parseFeatureLine(line string) (claim featureClaim, ok bool, err error) {
	if !strings.Contains(line, featureLineMarker) {
		return featureClaim{}, false, nil
	}

	m := featureLine.FindStringSubmatch(line)
	if m == nil {
		return featureClaim{}, true, fmt.Errorf("malformed feature line %q: expected %q", line,
			"seccomp-feature: name=<feature> min=<version|none> kernel=<release> result=<run|skip>")
	}
	claim = featureClaim{Name: m[1], Min: m[2], Kernel: m[3], Result: m[4]}

	if claim.Result != "run" && claim.Result != "skip" {
		return claim, true, fmt.Errorf("feature line %q: result must be run or skip", line)
	}
	if claim.Min != minNone {
		if _, err := parseVersion(claim.Min); err != nil {
			return claim, true, fmt.Errorf("feature line %q: invalid min: %v", line, err)
		}
	}
	if _, err := parseVersion(claim.Kernel); err != nil {
		return claim, true, fmt.Errorf("feature line %q: invalid kernel: %v", line, err)
	}
	return claim, true, nil
}

// parseVersion returns the numeric components at the start of a kernel release or
// version: [6 1 0] for "6.1.0-50-amd64", [6 12 118] for "6.12.118+deb12-amd64", [5 19] for
// "5.19". It needs at least a major and a minor number.
//
// NOTE: Debian's release strings keep the stable patch level at 0 ("6.1.0-50" is 6.1.176),
// so a minimum that names a patch level compares against 0 on those kernels.
func parseVersion(s string) ([]int, error) {
	end := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if end < 0 {
		end = len(s)
	}
	numeric := strings.TrimSuffix(s[:end], ".")

	parts := strings.Split(numeric, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%q is not a kernel version: expected at least major.minor", s)
	}
	version := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a kernel version: %v", s, err)
		}
		version[i] = n
	}
	return version, nil
}

// compareVersions compares two versions from parseVersion like cmp.Compare, treating
// missing components as 0, so that 6.1.0 equals 6.1.
func compareVersions(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return 0
}

// checkClaims checks the feature claims printed on one kernel and returns a problem for
// each wrong one:
//   - a feature with a numeric min that was skipped on a kernel at or above min, or ran on
//     one below it;
//   - a feature with min=none skipped on a kernel marked nested_listeners, or run on one
//     that is not;
//   - a feature reported with two different min values;
//   - a claim whose kernel differs from the release the init read (when release is set);
//   - on a nested kernel, no feature with min=none that ran, unless filtered is set
//     because -run selected only some tests.
func checkClaims(k kernel, release string, claims []featureClaim, filtered bool) []string {
	var problems []string
	mins := make(map[string][]string)
	unreleasedRan := false

	for _, c := range uniqueClaims(claims) {
		if !slices.Contains(mins[c.Name], c.Min) {
			mins[c.Name] = append(mins[c.Name], c.Min)
		}
		if release != "" && c.Kernel != release {
			problems = append(problems, fmt.Sprintf("feature %q reports kernel %s, but the kernel's release is %s", c.Name, c.Kernel, release))
		}
		if p := checkClaim(k, c); p != "" {
			problems = append(problems, p)
		}
		if c.Min == minNone && c.Result == "run" {
			unreleasedRan = true
		}
	}

	for _, name := range slices.Sorted(maps.Keys(mins)) {
		if len(mins[name]) > 1 {
			problems = append(problems, fmt.Sprintf("feature %q is reported with different min versions: %s", name, strings.Join(mins[name], ", ")))
		}
	}

	if k.NestedListeners && !unreleasedRan && !filtered {
		problems = append(problems, "no test ran a feature with min=none, such as nested listeners, on a kernel with nested listeners")
	}
	return problems
}

// checkClaim checks one claim against the kernel it ran on.
func checkClaim(k kernel, c featureClaim) string {
	if c.Min == minNone {
		switch {
		case c.Result == "skip" && k.NestedListeners:
			return fmt.Sprintf("feature %q (min none) was skipped on %s, which has nested listeners", c.Name, c.Kernel)
		case c.Result == "run" && !k.NestedListeners:
			return fmt.Sprintf("feature %q (min none) ran on %s, which the kernel list says lacks nested listeners", c.Name, c.Kernel)
		}
		return ""
	}

	// parseFeatureLine has checked both versions.
	minVersion, _ := parseVersion(c.Min)
	kernelVersion, _ := parseVersion(c.Kernel)
	atLeastMin := compareVersions(kernelVersion, minVersion) >= 0

	switch {
	case c.Result == "skip" && atLeastMin:
		return fmt.Sprintf("feature %q (min %s) was skipped on %s: the probe or the min version is wrong", c.Name, c.Min, c.Kernel)
	case c.Result == "run" && !atLeastMin:
		return fmt.Sprintf("feature %q (min %s) ran on %s, which is older: the min version is wrong", c.Name, c.Min, c.Kernel)
	}
	return ""
}

// uniqueClaims drops repeated claims, keeping the first of each.
func uniqueClaims(claims []featureClaim) []featureClaim {
	seen := make(map[featureClaim]bool)
	var unique []featureClaim
	for _, c := range claims {
		if !seen[c] {
			seen[c] = true
			unique = append(unique, c)
		}
	}
	return unique
}

// featureResults summarizes claims by feature name: "run", "skip", or "run+skip" when
// different tests disagreed.
func featureResults(claims []featureClaim) map[string]string {
	results := make(map[string]string)
	for _, c := range claims {
		switch results[c.Name] {
		case "":
			results[c.Name] = c.Result
		case c.Result:
		default:
			results[c.Name] = "run+skip"
		}
	}
	return results
}

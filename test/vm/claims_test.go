package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	cases := []struct {
		input    string
		expected []int
	}{
		{"6.1.0-50-amd64", []int{6, 1, 0}},
		{"7.2.13-rig", []int{7, 2, 13}},
		{"6.12.118+deb12-amd64", []int{6, 12, 118}},
		{"7.2.13+deb14-arm64", []int{7, 2, 13}},
		{"6.18.44-fc-v1252", []int{6, 18, 44}},
		{"5.19", []int{5, 19}},
		{"5.0", []int{5, 0}},
		{"4.14.336", []int{4, 14, 336}},
		{"6.8.0.", []int{6, 8, 0}},
		{"6.9-rc1", []int{6, 9}},
	}
	for _, c := range cases {
		version, err := parseVersion(c.input)
		if err != nil {
			t.Errorf("parseVersion(%q): %v", c.input, err)
			continue
		}
		if !slices.Equal(version, c.expected) {
			t.Errorf("parseVersion(%q) = %v, expected %v", c.input, version, c.expected)
		}
	}
}

func TestParseVersionRejects(t *testing.T) {
	for _, input := range []string{"", "none", "6", "6-rc1", "v6.1", ".6.1", "6..1"} {
		if version, err := parseVersion(input); err == nil {
			t.Errorf("parseVersion(%q) = %v, expected an error", input, version)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b     string
		expected int
	}{
		{"6.1.0-50-amd64", "6.1", 0},
		{"6.1.0-50-amd64", "5.19", 1},
		{"5.9", "5.19", -1},
		{"6.12.118+deb12-amd64", "6.12.119", -1},
		{"7.2.13-rig", "7.2.13", 0},
		{"4.14", "4.14.0.0", 0},
	}
	for _, c := range cases {
		a, _ := parseVersion(c.a)
		b, _ := parseVersion(c.b)
		if got := compareVersions(a, b); got != c.expected {
			t.Errorf("compareVersions(%s, %s) = %d, expected %d", c.a, c.b, got, c.expected)
		}
	}
}

func TestParseFeatureLine(t *testing.T) {
	cases := []struct {
		line     string
		expected featureClaim
	}{
		{
			"seccomp-feature: name=nested listeners min=none kernel=7.2.13-rig result=run",
			featureClaim{"nested listeners", "none", "7.2.13-rig", "run"},
		},
		{
			"    helpers_test.go:311: seccomp-feature: name=ioctl SECCOMP_IOCTL_NOTIF_ADDFD min=5.9 kernel=6.1.0-50-amd64 result=skip",
			featureClaim{"ioctl SECCOMP_IOCTL_NOTIF_ADDFD", "5.9", "6.1.0-50-amd64", "skip"},
		},
		{
			"partialseccomp-feature: name=TSYNC_ESRCH min=5.7 kernel=6.12.118+deb12-amd64 result=run \r",
			featureClaim{"TSYNC_ESRCH", "5.7", "6.12.118+deb12-amd64", "run"},
		},
	}
	for _, c := range cases {
		claim, ok, err := parseFeatureLine(c.line)
		if !ok || err != nil {
			t.Errorf("parseFeatureLine(%q) = ok %v, err %v", c.line, ok, err)
			continue
		}
		if claim != c.expected {
			t.Errorf("parseFeatureLine(%q) = %+v, expected %+v", c.line, claim, c.expected)
		}
	}
}

func TestParseFeatureLineRejects(t *testing.T) {
	for _, line := range []string{
		"seccomp-feature: name=X min=5.0 kernel=6.1.0 result=maybe",
		"seccomp-feature: name=X min=five kernel=6.1.0 result=run",
		"seccomp-feature: name=X min=5.0 kernel=unknown result=run",
		"seccomp-feature: name=X kernel=6.1.0 result=run",
		"seccomp-feature: X ran",
	} {
		if _, ok, err := parseFeatureLine(line); !ok || err == nil {
			t.Errorf("parseFeatureLine(%q) = ok %v, err %v; expected ok and an error", line, ok, err)
		}
	}

	if _, ok, err := parseFeatureLine("=== RUN   TestFeature"); ok || err != nil {
		t.Errorf("parseFeatureLine on an ordinary line = ok %v, err %v; expected neither", ok, err)
	}
}

func TestCheckClaims(t *testing.T) {
	plain := kernel{Name: "6.1-amd64"}
	nested := kernel{Name: "7.2-nested-amd64", NestedListeners: true}
	nestedRan := featureClaim{"nested listeners", "none", "7.2.13-rig", "run"}

	cases := []struct {
		name     string
		kernel   kernel
		release  string
		claims   []featureClaim
		filtered bool
		problems []string // a substring of each problem, in order
	}{
		{
			name:    "numeric min ran on a newer kernel",
			kernel:  plain,
			release: "6.1.0-50-amd64",
			claims:  []featureClaim{{"WAIT_KILLABLE_RECV", "5.19", "6.1.0-50-amd64", "run"}},
		},
		{
			name:    "numeric min equal to the release ran",
			kernel:  plain,
			release: "6.1.0-50-amd64",
			claims:  []featureClaim{{"F", "6.1", "6.1.0-50-amd64", "run"}},
		},
		{
			name:    "numeric min skipped on an older kernel",
			kernel:  plain,
			release: "6.1.0-50-amd64",
			claims:  []featureClaim{{"F", "6.2", "6.1.0-50-amd64", "skip"}},
		},
		{
			name:     "numeric min skipped on a newer kernel",
			kernel:   plain,
			release:  "6.12.118+deb12-amd64",
			claims:   []featureClaim{{"TSYNC_ESRCH", "5.7", "6.12.118+deb12-amd64", "skip"}},
			problems: []string{`"TSYNC_ESRCH" (min 5.7) was skipped on 6.12.118+deb12-amd64`},
		},
		{
			name:     "numeric min ran on an older kernel",
			kernel:   plain,
			release:  "6.1.0-50-amd64",
			claims:   []featureClaim{{"F", "6.12", "6.1.0-50-amd64", "run"}},
			problems: []string{`"F" (min 6.12) ran on 6.1.0-50-amd64, which is older`},
		},
		{
			name:     "minor version compared as a number",
			kernel:   plain,
			release:  "5.9.0",
			claims:   []featureClaim{{"F", "5.19", "5.9.0", "run"}},
			problems: []string{`"F" (min 5.19) ran on 5.9.0`},
		},
		{
			name:    "nested feature ran on a nested kernel",
			kernel:  nested,
			release: "7.2.13-rig",
			claims:  []featureClaim{nestedRan, nestedRan},
		},
		{
			name:     "nested feature skipped on a nested kernel",
			kernel:   nested,
			release:  "7.2.13-rig",
			claims:   []featureClaim{nestedRan, {"nested listeners", "none", "7.2.13-rig", "skip"}},
			problems: []string{`"nested listeners" (min none) was skipped on 7.2.13-rig`},
		},
		{
			name:    "nested feature skipped on a plain kernel",
			kernel:  plain,
			release: "6.1.0-50-amd64",
			claims:  []featureClaim{{"nested listeners", "none", "6.1.0-50-amd64", "skip"}},
		},
		{
			name:     "nested feature ran on a plain kernel",
			kernel:   plain,
			release:  "7.2.13+deb14-amd64",
			claims:   []featureClaim{{"nested listeners", "none", "7.2.13+deb14-amd64", "run"}},
			problems: []string{`"nested listeners" (min none) ran on 7.2.13+deb14-amd64`},
		},
		{
			name:     "nested feature not reported on a nested kernel",
			kernel:   nested,
			release:  "7.2.13-rig",
			problems: []string{"no test ran a feature with min=none"},
		},
		{
			name:     "nested feature not reported with -run",
			kernel:   nested,
			release:  "7.2.13-rig",
			filtered: true,
		},
		{
			name:    "nested flag ran on a nested kernel",
			kernel:  nested,
			release: "7.2.13-rig",
			claims:  []featureClaim{{"flag ALLOW_NESTED_LISTENERS", "none", "7.2.13-rig", "run"}},
		},
		{
			name:     "nested flag ran on a plain kernel",
			kernel:   plain,
			release:  "6.1.0-50-amd64",
			claims:   []featureClaim{{"flag ALLOW_NESTED_LISTENERS", "none", "6.1.0-50-amd64", "run"}},
			problems: []string{`"flag ALLOW_NESTED_LISTENERS" (min none) ran on 6.1.0-50-amd64`},
		},
		{
			name:     "nested kernel with only numeric features",
			kernel:   nested,
			release:  "7.2.13-rig",
			claims:   []featureClaim{{"flag TSYNC", "3.17", "7.2.13-rig", "run"}},
			problems: []string{"no test ran a feature with min=none"},
		},
		{
			name:    "different min versions",
			kernel:  plain,
			release: "6.1.0-50-amd64",
			claims: []featureClaim{
				{"ADDFD", "5.9", "6.1.0-50-amd64", "run"},
				{"ADDFD", "5.14", "6.1.0-50-amd64", "run"},
			},
			problems: []string{`"ADDFD" is reported with different min versions: 5.9, 5.14`},
		},
		{
			name:     "claim from another kernel release",
			kernel:   plain,
			release:  "6.1.0-50-amd64",
			claims:   []featureClaim{{"F", "5.0", "6.1.0-49-amd64", "run"}},
			problems: []string{"reports kernel 6.1.0-49-amd64, but the kernel's release is 6.1.0-50-amd64"},
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			problems := checkClaims(c.kernel, c.release, c.claims, c.filtered)
			if len(problems) != len(c.problems) {
				t.Fatalf("problems %q, expected %d matching %q", problems, len(c.problems), c.problems)
			}
			for i, p := range problems {
				if !strings.Contains(p, c.problems[i]) {
					t.Errorf("problem %d is %q, expected it to contain %q", i, p, c.problems[i])
				}
			}
		})
	}
}

func TestFeatureResults(t *testing.T) {
	results := featureResults([]featureClaim{
		{Name: "A", Result: "run"},
		{Name: "A", Result: "run"},
		{Name: "B", Result: "skip"},
		{Name: "C", Result: "skip"},
		{Name: "C", Result: "run"},
	})
	expected := map[string]string{"A": "run", "B": "skip", "C": "run+skip"}
	for name, result := range expected {
		if results[name] != result {
			t.Errorf("feature %s: %q, expected %q", name, results[name], result)
		}
	}
}

package protocol

import (
	"maps"
	"testing"
)

func TestLineRoundTrip(t *testing.T) {
	cases := []struct {
		event  string
		fields []string
	}{
		{EventReady, []string{"release", "6.12.118+deb12-amd64", "goarch", "amd64", "cpus", "1"}},
		{EventExit, []string{"binary", "seccomp", "status", "-1", "signal", "killed", "elapsed", "1.5s"}},
		{EventError, []string{"msg", `mount /proc: "proc": no such device`}},
		{EventWarning, []string{"msg", ""}},
		{EventDone, nil},
	}
	for _, c := range cases {
		line := FormatLine(c.event, c.fields...)

		event, fields, ok, err := ParseLine("\x1b[0mkernel noise " + line + "\r")
		if !ok || err != nil {
			t.Fatalf("ParseLine(%q) = ok %v, err %v", line, ok, err)
		}
		if event != c.event {
			t.Errorf("ParseLine(%q): event %q, expected %q", line, event, c.event)
		}
		expected := map[string]string{}
		for i := 0; i+1 < len(c.fields); i += 2 {
			expected[c.fields[i]] = c.fields[i+1]
		}
		if !maps.Equal(fields, expected) {
			t.Errorf("ParseLine(%q): fields %q, expected %q", line, fields, expected)
		}
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, line := range []string{
		LinePrefix,
		LinePrefix + "exit binary",
		LinePrefix + `error msg="unterminated`,
	} {
		if _, _, ok, err := ParseLine(line); !ok || err == nil {
			t.Errorf("ParseLine(%q) = ok %v, err %v; expected ok and an error", line, ok, err)
		}
	}
}

func TestParseLineIgnoresOtherLines(t *testing.T) {
	for _, line := range []string{"", "=== RUN   TestX", "vmtest-init:ready"} {
		if _, _, ok, err := ParseLine(line); ok || err != nil {
			t.Errorf("ParseLine(%q) = ok %v, err %v; expected neither", line, ok, err)
		}
	}
}

// Package protocol defines what the VM test runner and its guest init exchange: the
// configuration file the runner writes into the initramfs, and the status lines the init
// prints on the console for the runner to parse.
package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConfigPath is the path of the JSON-encoded Config inside the initramfs.
const ConfigPath = "/vmtest.json"

// LinePrefix starts every status line the init prints. The runner looks for it anywhere in
// a console line, because a kernel message or unterminated test output can precede it.
const LinePrefix = "vmtest-init: "

// Events of the status lines, in the order the init prints them.
const (
	EventReady   = "ready"   // fields: release, goarch, cpus
	EventStart   = "start"   // fields: binary
	EventExit    = "exit"    // fields: binary, status, elapsed, and signal or msg when set
	EventDone    = "done"    // fields: binaries, failed
	EventWarning = "warning" // fields: msg
	EventError   = "error"   // fields: msg
)

// Config is what the init runs.
type Config struct {
	// Binaries are run in order, each once.
	Binaries []Binary `json:"binaries"`

	// Args are passed to every binary. The init adds -test.timeout itself.
	Args []string `json:"args"`

	// Env is the complete environment of every binary.
	Env []string `json:"env"`

	// Timeout bounds all binaries together, counted from the init's start. Each binary gets
	// what is left of it as its -test.timeout, so a hung test prints its goroutines before
	// the runner kills the VM.
	Timeout time.Duration `json:"timeout"`
}

// Binary is one compiled test binary in the initramfs.
type Binary struct {
	Name string `json:"name"` // unique, no spaces
	Path string `json:"path"` // absolute path inside the guest
	Dir  string `json:"dir"`  // working directory, holding the package's testdata
}

// FormatLine returns a status line, without the newline, for an event and its fields given
// as key and value pairs. A value with a space, a quote or nothing in it is quoted with
// strconv.Quote.
func FormatLine(event string, keysAndValues ...string) string {
	var b strings.Builder
	b.WriteString(LinePrefix)
	b.WriteString(event)

	for i := 0; i+1 < len(keysAndValues); i += 2 {
		b.WriteByte(' ')
		b.WriteString(keysAndValues[i])
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(keysAndValues[i+1]))
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"\\") || strconv.QuoteToASCII(s) != `"`+s+`"` {
		return strconv.QuoteToASCII(s)
	}
	return s
}

// ParseLine finds a status line in a console line. It returns ok false if the line has
// none, and an error if the status line is malformed.
func ParseLine(line string) (event string, fields map[string]string, ok bool, err error) {
	i := strings.Index(line, LinePrefix)
	if i < 0 {
		return "", nil, false, nil
	}
	rest := strings.TrimRight(line[i+len(LinePrefix):], " \r\n")

	event, rest, _ = strings.Cut(rest, " ")
	if event == "" {
		return "", nil, true, fmt.Errorf("status line %q has no event", line)
	}

	fields = make(map[string]string)
	for rest = strings.TrimLeft(rest, " "); rest != ""; rest = strings.TrimLeft(rest, " ") {
		key, value, found := strings.Cut(rest, "=")
		if !found || key == "" || strings.Contains(key, " ") {
			return event, fields, true, fmt.Errorf("status line %q: field %q is not key=value", line, rest)
		}

		if strings.HasPrefix(value, `"`) {
			quoted, err := strconv.QuotedPrefix(value)
			if err != nil {
				return event, fields, true, fmt.Errorf("status line %q: field %s: invalid quoted value", line, key)
			}
			fields[key], _ = strconv.Unquote(quoted)
			rest = value[len(quoted):]
			continue
		}

		fields[key], rest, _ = strings.Cut(value, " ")
	}
	return event, fields, true, nil
}

package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// moduleRoot is the module root as seen from the gen directory, where go
// test runs these tests.
const moduleRoot = ".."

// parseFile parses a Go file and fails the test on error.
func parseFile(t *testing.T, path string) (*token.FileSet, *ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return fset, f
}

// intConsts returns the constants of a Go file whose value is an integer
// literal. Constants with other values are left out.
func intConsts(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	_, f := parseFile(t, path)
	consts := map[string]uint64{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					continue
				}
				v, err := strconv.ParseUint(lit.Value, 0, 64)
				if err != nil {
					t.Fatalf("%s: constant %s = %s: %v", path, name.Name, lit.Value, err)
				}
				consts[name.Name] = v
			}
		}
	}
	return consts
}

// stringConst returns the value of a string constant of a Go file.
func stringConst(t *testing.T, path, name string) string {
	t.Helper()
	_, f := parseFile(t, path)
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: constant %s is not a string literal", path, name)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
	}
	t.Fatalf("%s: no constant %s", path, name)
	return ""
}

// A tableEntry is one row of a generated sysnum table.
type tableEntry struct {
	Name string
	Nr   uint64
}

// sysnumTable returns the rows of the array variable called name in a
// generated sysnum file, in file order.
func sysnumTable(t *testing.T, path, name string) []tableEntry {
	t.Helper()
	_, f := parseFile(t, path)
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if vs.Names[0].Name != name {
				continue
			}
			lit, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok {
				t.Fatalf("%s: %s is not a composite literal", path, name)
			}

			var rows []tableEntry
			for _, elt := range lit.Elts {
				row, ok := elt.(*ast.CompositeLit)
				if !ok || len(row.Elts) != 2 {
					t.Fatalf("%s: %s has a row that is not {name, number}", path, name)
				}
				nameLit, ok1 := row.Elts[0].(*ast.BasicLit)
				nrLit, ok2 := row.Elts[1].(*ast.BasicLit)
				if !ok1 || !ok2 || nameLit.Kind != token.STRING || nrLit.Kind != token.INT {
					t.Fatalf("%s: %s has a row that is not {name, number}", path, name)
				}
				s, err := strconv.Unquote(nameLit.Value)
				if err != nil {
					t.Fatal(err)
				}
				nr, err := strconv.ParseUint(nrLit.Value, 0, 32)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, tableEntry{Name: s, Nr: nr})
			}
			return rows
		}
	}
	t.Fatalf("%s: no variable %s", path, name)
	return nil
}

var xsys struct {
	once sync.Once
	dir  string
	err  error
}

// xsysUnix returns the unix directory of the golang.org/x/sys version that
// go.mod requires, downloading the module if the cache lacks it.
func xsysUnix(t *testing.T) string {
	t.Helper()
	xsys.once.Do(func() {
		cmd := exec.Command("go", "mod", "download", "-json", "golang.org/x/sys")
		cmd.Dir = moduleRoot
		out, err := cmd.Output()
		if err != nil {
			xsys.err = err
			if ee, ok := err.(*exec.ExitError); ok {
				xsys.err = &downloadError{err: err, stderr: string(ee.Stderr) + string(out)}
			}
			return
		}

		var info struct{ Dir, Version, Error string }
		if err := json.Unmarshal(out, &info); err != nil {
			xsys.err = err
			return
		}
		if info.Dir == "" {
			xsys.err = &downloadError{stderr: "go mod download reported no directory: " + info.Error}
			return
		}
		xsys.dir = filepath.Join(info.Dir, "unix")
	})
	if xsys.err != nil {
		t.Fatalf("locate golang.org/x/sys (needs the module cache or the Go module proxy): %v", xsys.err)
	}
	return xsys.dir
}

type downloadError struct {
	err    error
	stderr string
}

func (e *downloadError) Error() string {
	if e.err == nil {
		return strings.TrimSpace(e.stderr)
	}
	return e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}

// xsysConsts returns the integer constants that golang.org/x/sys/unix
// declares for GOARCH arch: those of zerrors_linux.go and of
// zerrors_linux_<arch>.go.
func xsysConsts(t *testing.T, arch string) map[string]uint64 {
	t.Helper()
	dir := xsysUnix(t)
	consts := intConsts(t, filepath.Join(dir, "zerrors_linux.go"))
	for name, v := range intConsts(t, filepath.Join(dir, "zerrors_linux_"+arch+".go")) {
		consts[name] = v
	}
	return consts
}

package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed shim.h
var shim string

// godefsInput returns the Go source that cmd/cgo -godefs translates for t.
// Only AuditArchNative differs between targets.
func godefsInput(t target) (string, error) {
	if strings.Contains(shim, "*/") {
		return "", fmt.Errorf("shim.h contains */, which would end the cgo preamble")
	}

	var b strings.Builder
	b.WriteString("package seccomp\n\n/*\n")
	for _, h := range headers {
		fmt.Fprintf(&b, "#include <%s>\n", h)
	}
	b.WriteString("\n")
	b.WriteString(shim)
	b.WriteString("*/\nimport \"C\"\n\n")

	for _, s := range structs {
		fmt.Fprintf(&b, "type %s C.struct_%s\n", s.Go, s.C)
	}

	b.WriteString("\nconst (\n")
	for _, s := range structs {
		fmt.Fprintf(&b, "\tSizeof%s = C.sizeof_struct_%s\n", s.Go, s.C)
	}
	for _, c := range ioctls {
		fmt.Fprintf(&b, "\t%s = C.%s\n", c.Go, c.C)
	}
	fmt.Fprintf(&b, "\tAuditArchNative = C.%s\n", t.AuditArch)
	for _, g := range constGroups {
		for _, name := range g.Names {
			fmt.Fprintf(&b, "\t_%s = C.%s\n", name, name)
		}
	}
	b.WriteString(")\n")
	return b.String(), nil
}

// runGodefs runs cmd/cgo -godefs for t in a fresh directory under work and
// returns its output. includeFlags are extra compiler flags that select the
// kernel headers.
func runGodefs(ctx context.Context, t target, includeFlags []string, work string) ([]byte, error) {
	input, err := godefsInput(t)
	if err != nil {
		return nil, err
	}

	dir := filepath.Join(work, "godefs-"+t.GOARCH)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "types.go"), []byte(input), 0o644); err != nil {
		return nil, err
	}

	args := []string{"tool", "cgo", "-godefs", "-objdir", filepath.Join(dir, "obj"), "--"}
	args = append(args, t.CFlags...)
	args = append(args, includeFlags...)
	args = append(args, "types.go")

	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOOS=linux",
		"GOARCH="+t.GOARCH,
		"CGO_ENABLED=1",
		"CC="+strings.Join(t.CC, " "),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: cgo -godefs with %s failed: %v\n%s", t.GOARCH, strings.Join(t.CC, " "), err, stderr.Bytes())
	}
	return out, nil
}

// A goStruct is a struct declaration after renaming.
type goStruct struct {
	Name   string
	Fields []goField
}

type goField struct {
	Name string
	Type string
}

// types are the declarations of one target's cgo -godefs output.
type types struct {
	Structs []goStruct        // in the order of structs
	Consts  map[string]string // Go name to value, as a hex literal
}

// parseGodefs reads cgo -godefs output, renames the struct fields as
// structs specifies and substitutes the hand-written flag types. It fails
// when a declaration is missing, unexpected or not what the spec describes.
func parseGodefs(src []byte) (types, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "godefs.go", src, 0)
	if err != nil {
		return types{}, fmt.Errorf("parse cgo -godefs output: %v", err)
	}

	result := types{Consts: map[string]string{}}
	found := map[string]goStruct{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok {
			return types{}, fmt.Errorf("unexpected declaration at %s", fset.Position(decl.Pos()))
		}

		for _, spec := range gen.Specs {
			switch spec := spec.(type) {
			case *ast.TypeSpec:
				s, err := convertStruct(fset, spec)
				if err != nil {
					return types{}, err
				}
				found[s.Name] = s

			case *ast.ValueSpec:
				if err := convertConst(spec, result.Consts); err != nil {
					return types{}, err
				}

			case *ast.ImportSpec:
				return types{}, fmt.Errorf("unexpected import %s in cgo -godefs output", spec.Path.Value)
			}
		}
	}

	for _, spec := range structs {
		s, ok := found[spec.Go]
		if !ok {
			return types{}, fmt.Errorf("cgo -godefs output lacks type %s", spec.Go)
		}
		result.Structs = append(result.Structs, s)
	}
	if len(found) != len(structs) {
		return types{}, fmt.Errorf("cgo -godefs output declares %d types, want %d", len(found), len(structs))
	}
	for _, name := range expectedConsts() {
		if _, ok := result.Consts[name]; !ok {
			return types{}, fmt.Errorf("cgo -godefs output lacks constant %s", name)
		}
	}
	return result, nil
}

// convertStruct renames the fields of one struct type. cgo -godefs strips a
// prefix that one field alone carries (instruction_pointer becomes Pointer),
// so fields are matched by position and the godefs name must end the C
// name. A field added to a C struct therefore fails the run.
func convertStruct(fset *token.FileSet, ts *ast.TypeSpec) (goStruct, error) {
	var spec *structSpec
	for i := range structs {
		if structs[i].Go == ts.Name.Name {
			spec = &structs[i]
		}
	}
	if spec == nil {
		return goStruct{}, fmt.Errorf("unexpected type %s in cgo -godefs output", ts.Name.Name)
	}

	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return goStruct{}, fmt.Errorf("type %s is not a struct in cgo -godefs output", ts.Name.Name)
	}
	if len(st.Fields.List) != len(spec.Fields) {
		return goStruct{}, fmt.Errorf("struct %s has %d fields, want %d (%s)", spec.C, len(st.Fields.List), len(spec.Fields), fieldNames(spec))
	}

	s := goStruct{Name: spec.Go}
	for i, f := range st.Fields.List {
		want := spec.Fields[i]
		if len(f.Names) != 1 {
			return goStruct{}, fmt.Errorf("struct %s: field %d has %d names, want 1", spec.C, i, len(f.Names))
		}

		name := f.Names[0].Name
		if strings.HasPrefix(name, "Pad_cgo") || strings.HasPrefix(name, "_") {
			return goStruct{}, fmt.Errorf("struct %s has padding field %s, which the uapi layout does not have", spec.C, name)
		}
		if !strings.HasSuffix(want.C, strings.ToLower(name)) {
			return goStruct{}, fmt.Errorf("struct %s: field %d is %s, want C member %s", spec.C, i, name, want.C)
		}

		var typ bytes.Buffer
		if err := printer.Fprint(&typ, fset, f.Type); err != nil {
			return goStruct{}, err
		}
		goType := typ.String()
		if want.Type != "" {
			if goType != "uint32" {
				return goStruct{}, fmt.Errorf("struct %s: member %s has type %s, want uint32 to replace with %s", spec.C, want.C, goType, want.Type)
			}
			goType = want.Type
		}
		s.Fields = append(s.Fields, goField{Name: want.Go, Type: goType})
	}
	return s, nil
}

func fieldNames(spec *structSpec) string {
	var names []string
	for _, f := range spec.Fields {
		names = append(names, f.C)
	}
	return strings.Join(names, ", ")
}

// convertConst records one constant as a lowercase hex literal.
func convertConst(vs *ast.ValueSpec, consts map[string]string) error {
	if len(vs.Names) != 1 || len(vs.Values) != 1 {
		return fmt.Errorf("unexpected constant spec with %d names and %d values", len(vs.Names), len(vs.Values))
	}

	name := vs.Names[0].Name
	lit, ok := vs.Values[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		return fmt.Errorf("constant %s is not a non-negative integer literal in cgo -godefs output", name)
	}
	v, err := strconv.ParseUint(lit.Value, 0, 64)
	if err != nil {
		return fmt.Errorf("constant %s: %v", name, err)
	}
	if _, dup := consts[name]; dup {
		return fmt.Errorf("constant %s declared twice in cgo -godefs output", name)
	}
	consts[name] = fmt.Sprintf("%#x", v)
	return nil
}

// expectedConsts lists the Go names of every constant in the godefs input.
func expectedConsts() []string {
	var names []string
	for _, s := range structs {
		names = append(names, "Sizeof"+s.Go)
	}
	for _, c := range ioctls {
		names = append(names, c.Go)
	}
	names = append(names, "AuditArchNative")
	names = append(names, commonConstNames()...)
	return names
}

// commonConstNames lists the Go names of the unexported C constants.
func commonConstNames() []string {
	var names []string
	for _, g := range constGroups {
		for _, name := range g.Names {
			names = append(names, "_"+name)
		}
	}
	return names
}

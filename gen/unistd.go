package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"math"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// A syscall is one __NR_ macro of <asm/unistd.h>.
type syscall struct {
	Name string // without the __NR_ prefix
	Nr   uint32

	// AliasOf is set when the macro is defined as another __NR_ macro,
	// as arm's __NR_sync_file_range2 is defined as __NR_arm_sync_file_range.
	AliasOf string
}

// pseudoSyscalls are __NR_ macros that are not system calls. The generator
// skips them. Any other __NR_ name with an uppercase letter stops the run,
// because kernel system call names are lowercase.
var pseudoSyscalls = map[string]bool{
	"syscalls":              true, // asm-generic: one past the highest number
	"arch_specific_syscall": true, // asm-generic: start of the per-arch range
	"Linux":                 true, // mips: first number of the ABI (4000, 5000, 6000)
	"SYSCALL_BASE":          true, // arm: 0 for EABI
	"OABI_SYSCALL_BASE":     true, // arm: base of the old ABI
	"SYSCALL_MASK":          true, // arm: mask that removes the base
}

// macroProbe is the C file whose predefined and header macros the
// generator reads with -dM -E.
const macroProbe = "#include <asm/unistd.h>\n#include <linux/version.h>\n"

// readMacros returns every object-like macro that the compiler defines
// after including <asm/unistd.h> and <linux/version.h>, mapped to its body.
func readMacros(ctx context.Context, t target, includeFlags []string) (map[string]string, error) {
	out, err := runCompiler(ctx, t, includeFlags, []string{"-dM", "-E"}, macroProbe)
	if err != nil {
		return nil, err
	}
	return parseDefines(out)
}

// parseDefines parses the "#define NAME BODY" lines of -dM output.
// Function-like macros are left out.
func parseDefines(out []byte) (map[string]string, error) {
	macros := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "#define ")
		if !ok {
			if strings.TrimSpace(line) != "" {
				return nil, fmt.Errorf("unexpected line in -dM output: %q", line)
			}
			continue
		}

		name, body, _ := strings.Cut(rest, " ")
		if strings.Contains(name, "(") {
			continue
		}
		macros[name] = strings.TrimSpace(body)
	}
	return macros, sc.Err()
}

// syscallNames returns the system call names among macros, sorted.
func syscallNames(macros map[string]string) ([]string, error) {
	var names []string
	for macro := range macros {
		name, ok := strings.CutPrefix(macro, "__NR_")
		if !ok || pseudoSyscalls[name] {
			continue
		}
		if strings.IndexFunc(name, unicode.IsUpper) >= 0 {
			return nil, fmt.Errorf("macro %s has an uppercase letter, which no system call name has; add it to pseudoSyscalls if it is not a system call", macro)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("<asm/unistd.h> defines no __NR_ macros")
	}
	return names, nil
}

// expansionMarker starts each line of the expansion pass. It is not a
// macro, so the preprocessor leaves it alone.
const expansionMarker = "seccompgo_gen_nr"

// readSyscalls lets the preprocessor expand every __NR_ macro and
// evaluates the expansions, which on mips and arm are expressions such as
// (4000 + 3) or (0+ 341).
func readSyscalls(ctx context.Context, t target, includeFlags []string, macros map[string]string) ([]syscall, error) {
	names, err := syscallNames(macros)
	if err != nil {
		return nil, err
	}

	var src strings.Builder
	src.WriteString("#include <asm/unistd.h>\n")
	for i, name := range names {
		fmt.Fprintf(&src, "%s %d __NR_%s\n", expansionMarker, i, name)
	}
	out, err := runCompiler(ctx, t, includeFlags, []string{"-E", "-P"}, src.String())
	if err != nil {
		return nil, err
	}

	values := make([]string, len(names))
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != expansionMarker {
			continue
		}
		i, err := strconv.Atoi(fields[1])
		if err != nil || i < 0 || i >= len(names) {
			return nil, fmt.Errorf("unexpected preprocessor line %q", sc.Text())
		}
		values[i] = strings.Join(fields[2:], " ")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}

	var calls []syscall
	for i, name := range names {
		if values[i] == "" {
			return nil, fmt.Errorf("preprocessor output lacks __NR_%s", name)
		}
		nr, err := evalCExpr(values[i])
		if err != nil {
			return nil, fmt.Errorf("__NR_%s = %s: %v", name, values[i], err)
		}

		call := syscall{Name: name, Nr: nr}
		if target, ok := strings.CutPrefix(macros["__NR_"+name], "__NR_"); ok && !pseudoSyscalls[target] {
			call.AliasOf = target
		}
		calls = append(calls, call)
	}
	return calls, checkSyscalls(calls)
}

// checkSyscalls fails when two primary names share a number, because
// Name could then return either.
func checkSyscalls(calls []syscall) error {
	byNr := map[uint32]string{}
	byName := map[string]uint32{}
	for _, c := range calls {
		byName[c.Name] = c.Nr
	}

	for _, c := range calls {
		if c.AliasOf != "" {
			nr, ok := byName[c.AliasOf]
			if !ok || nr != c.Nr {
				return fmt.Errorf("__NR_%s is defined as __NR_%s, which is not a system call with the same number", c.Name, c.AliasOf)
			}
			continue
		}
		if other, dup := byNr[c.Nr]; dup {
			return fmt.Errorf("__NR_%s and __NR_%s are both %d", other, c.Name, c.Nr)
		}
		byNr[c.Nr] = c.Name
	}
	return nil
}

// integerSuffix matches a C integer literal with a u, l, ul or ull suffix.
var integerSuffix = regexp.MustCompile(`\b(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]+\b`)

// evalCExpr evaluates an integer constant expression made of literals,
// parentheses, unary + and -, and the binary operators + - * | & << >>.
// Those are the forms that <asm/unistd.h> uses, and each means the same
// in C and in Go. Anything else is an error, not a guess.
func evalCExpr(expr string) (uint32, error) {
	// C integer suffixes such as the UL of 1UL do not change the value.
	expr = integerSuffix.ReplaceAllString(expr, "$1")
	tree, err := parser.ParseExpr(expr)
	if err != nil {
		return 0, fmt.Errorf("not an expression the generator can evaluate: %v", err)
	}
	v, err := evalNode(tree)
	if err != nil {
		return 0, err
	}

	n, exact := constant.Uint64Val(v)
	if !exact || n > math.MaxUint32 {
		return 0, fmt.Errorf("value %s does not fit in uint32", v)
	}
	return uint32(n), nil
}

func evalNode(n ast.Expr) (constant.Value, error) {
	switch n := n.(type) {
	case *ast.BasicLit:
		if n.Kind != token.INT {
			return nil, fmt.Errorf("literal %s is not an integer", n.Value)
		}
		v := constant.MakeFromLiteral(n.Value, token.INT, 0)
		if v.Kind() == constant.Unknown {
			return nil, fmt.Errorf("invalid integer literal %s", n.Value)
		}
		return v, nil

	case *ast.ParenExpr:
		return evalNode(n.X)

	case *ast.UnaryExpr:
		x, err := evalNode(n.X)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case token.ADD, token.SUB:
			return constant.UnaryOp(n.Op, x, 0), nil
		}
		return nil, fmt.Errorf("unsupported unary operator %s", n.Op)

	case *ast.BinaryExpr:
		x, err := evalNode(n.X)
		if err != nil {
			return nil, err
		}
		y, err := evalNode(n.Y)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case token.ADD, token.SUB, token.MUL, token.OR, token.AND:
			return constant.BinaryOp(x, n.Op, y), nil
		case token.SHL, token.SHR:
			s, ok := constant.Uint64Val(y)
			if !ok || s > 63 {
				return nil, fmt.Errorf("invalid shift count %s", y)
			}
			return constant.Shift(x, n.Op, uint(s)), nil
		}
		return nil, fmt.Errorf("unsupported binary operator %s", n.Op)
	}
	return nil, fmt.Errorf("unsupported expression %T", n)
}

// checkTarget compares the compiler's predefined byte order and pointer
// size with t, so a wrong compiler or ABI flag fails the run.
func checkTarget(t target, macros map[string]string) error {
	order := "__ORDER_LITTLE_ENDIAN__"
	if t.BigEndian {
		order = "__ORDER_BIG_ENDIAN__"
	}
	if got := macros["__BYTE_ORDER__"]; got != order {
		return fmt.Errorf("%s: %s defines __BYTE_ORDER__ as %q, want %s", t.GOARCH, strings.Join(t.CC, " "), got, order)
	}

	size := strconv.Itoa(t.PointerBits / 8)
	if got := macros["__SIZEOF_POINTER__"]; got != size {
		return fmt.Errorf("%s: %s defines __SIZEOF_POINTER__ as %q, want %s", t.GOARCH, strings.Join(t.CC, " "), got, size)
	}
	return nil
}

// linuxVersion returns the "major.minor" of LINUX_VERSION_CODE.
func linuxVersion(macros map[string]string) (string, error) {
	body, ok := macros["LINUX_VERSION_CODE"]
	if !ok {
		return "", fmt.Errorf("<linux/version.h> does not define LINUX_VERSION_CODE")
	}
	code, err := strconv.ParseUint(body, 0, 32)
	if err != nil {
		return "", fmt.Errorf("LINUX_VERSION_CODE %q: %v", body, err)
	}
	return fmt.Sprintf("%d.%d", code>>16, code>>8&0xff), nil
}

// runCompiler runs t's compiler in preprocessor mode on src from stdin.
func runCompiler(ctx context.Context, t target, includeFlags, mode []string, src string) ([]byte, error) {
	args := append([]string{}, t.CC[1:]...)
	args = append(args, t.CFlags...)
	args = append(args, includeFlags...)
	args = append(args, mode...)
	args = append(args, "-x", "c", "-")

	cmd := exec.CommandContext(ctx, t.CC[0], args...)
	cmd.Stdin = strings.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s failed: %v\n%s", t.GOARCH, t.CC[0], strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

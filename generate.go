package seccomp

// The generated files ztypes_linux*.go and sysnum/zsysnum_linux_*.go come
// from the Linux uapi headers through real C compilers. gen/README.md lists
// the Debian packages that the command needs.
//go:generate go run ./gen

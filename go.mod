module github.com/seccompgo/seccomp

go 1.25.0

require golang.org/x/sys v0.43.0

module github.com/seccompgo/seccomp/bench/libseccomp

go 1.25.0

require (
	github.com/seccomp/libseccomp-golang v0.11.1
	github.com/seccompgo/seccomp v0.0.0
	golang.org/x/sys v0.43.0
)

replace github.com/seccompgo/seccomp => ../..

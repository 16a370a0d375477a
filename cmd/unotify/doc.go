// Command unotify runs a command under a seccomp filter, responds to the
// system calls that the filter sends to its listener, and reports each of
// them with its decoded arguments and the response.
//
// Usage:
//
//	unotify [flags] [--] COMMAND [ARG...]
//
// Examples:
//
//	# Report the files cat opens, the programs it runs, and so on.
//	unotify -- cat /etc/hostname
//
//	# Only openat and connect, as JSON, into a file, so that the command's
//	# own output stays apart.
//	unotify -trace openat,connect -json -o calls.jsonl -- make
//
//	# Make every connect fail with ECONNREFUSED without running it.
//	unotify -deny connect=ECONNREFUSED -- curl http://127.0.0.1:8080/
//
//	# Nested listeners: the outer unotify reports the inner one's calls
//	# and, after the inner one responds with continue, the command's.
//	unotify -nested -- unotify -- cat /etc/hostname
//
// Without -trace, unotify intercepts the calls that open files (open, openat,
// openat2, creat), run programs (execve, execveat), connect sockets (connect)
// and change directory entries (unlink, unlinkat, rename, renameat,
// renameat2, mkdir, mkdirat). It leaves out those the architecture lacks,
// such as open on arm64. -trace replaces that set with its list, and every -deny
// adds its call. A name the architecture lacks is an error in either flag.
//
// # Flags
//
//	-trace LIST      intercept the comma-separated calls (names of Linux 6.1, or numbers)
//	                 and let them run (CONTINUE); repeatable
//	-deny NAME=ERRNO intercept NAME and make it fail with ERRNO (EACCES, or 1 to 4095); repeatable
//	-json            write one JSON object per line
//	-o FILE          write the report to FILE instead of standard output
//	-nested          install the listener with ALLOW_NESTED_LISTENERS
//	-wait-killable   install it with WAIT_KILLABLE_RECV (default: where the kernel has it)
//	-sync-wake-up    set SYNC_WAKE_UP on the listener (default: where the kernel has it)
//
// # The text report
//
// Each line gives the id of the calling thread (not of its process), the
// call and its arguments, and the response:
//
//	4967 execve("/usr/bin/cat", ["cat", "/etc/hostname"], 0x7ffd5c6e0f28) -> continue
//	4967 openat(AT_FDCWD, "/etc/hostname", O_RDONLY, 0) -> continue
//	4971 connect(3, {AF_UNIX, "/run/app.sock"}, 16) -> errno ECONNREFUSED
//	4980 openat(AT_FDCWD, <gone 0x7ffd5c6e1010>, O_RDONLY|O_CLOEXEC, 0) -> gone
//
// The responses are:
//   - continue: the call was let run (CONTINUE);
//   - errno NAME: the call failed with that errno without running (-deny);
//   - gone: the notification ended before the response, because the thread
//     died or a signal interrupted the call, which then restarts as a new
//     notification and gets a line of its own;
//   - failed: sending the response failed for another reason, given on
//     standard error.
//
// File descriptors are decimal, with AT_FDCWD by name. Open, AT_*, RENAME_*
// and RESOLVE_* flags are symbolic, with unnamed bits in hex. Modes are
// octal. Other flags are hex, and so are the six registers printed for a
// call missing from unotify's table. The other calls are printed with the
// parameters of their man pages.
//
// # Reading the target's memory
//
// Paths, argv arrays, socket addresses (AF_UNIX, AF_INET, AF_INET6) and
// struct open_how are read from the calling thread's /proc/TID/mem. unotify
// opens that file anew for each notification, because a cached fd could
// refer to an address space that the thread left by execve, or to a thread
// whose id was reused. At most 4096
// bytes of a path, 32 argv entries of 1024 bytes, and 128 bytes of a socket
// address are read; a longer string is shown with "..." after it.
//
// What was read is shown only if the notification was still pending when
// unotify checked its id after the read (SECCOMP_IOCTL_NOTIF_ID_VALID).
// Otherwise the thread may have died and its id been reused, so the bytes
// need not be the call's: the argument is shown as <gone ADDRESS>, and the
// response is gone. A read that fails is shown as <unreadable ADDRESS: ERROR>,
// and a null pointer as NULL.
//
// The target can change its memory after unotify read it and before the call
// runs, so the report shows what the call most likely used, not a guarantee.
// For the same reason, letting a call run (continue) after looking at its
// arguments is no security decision.
//
// # The JSON report
//
// With -json, each line is an object with these fields:
//   - "id": the notification id in hex, such as "0x5ae1c3f0e2a84b17";
//   - "pid": the id of the calling thread, as in the text report;
//   - "syscall": the call's name;
//   - "args": one object per argument, described below;
//   - "action": "continue", "errno", "gone" or "failed";
//   - "errno": the errno's name (or number) when "action" is "errno".
//
// Each argument object has "name", the parameter's name from the man page,
// and "raw", the register in hex. Then it has one of:
//   - "value": the argument's text as in the text report, except that paths
//     and socket addresses are not quoted. An AF_UNIX address is its path,
//     or its abstract name together with "abstract": true; an AF_INET or
//     AF_INET6 address is "address:port". A socket address of another family
//     has "hex" (the whole address in hex) in place of "value". A socket
//     address also has "family", such as "AF_UNIX".
//   - "list": the entries of an argv array;
//   - "error": why the argument could not be shown, "gone" or the read error.
//
// "truncated": true marks a string or argv array longer than shown. JSON
// strings cannot hold bytes that are not UTF-8, which become U+FFFD; a path
// or AF_UNIX address with such bytes also has "hex" with its exact bytes.
//
// # Exit status
//
// unotify exits with COMMAND's status, or 128+N if signal N killed it, as a
// shell does. When COMMAND does not run, the status is 127 if it was not
// found, 126 if it could not be executed, 2 for invalid flags or arguments
// (as with Go's flag package) and 125 if unotify could not supervise it, for
// example on a kernel without the flags asked for, or when the report file
// cannot be created.
//
// # Signals
//
// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to unotify are
// passed on to COMMAND, and unotify keeps running until COMMAND exits. A key
// such as Ctrl-C on a terminal signals both, so COMMAND receives it twice.
//
// # Nested listeners
//
// Mainline kernels allow one open seccomp listener on a thread, so unotify
// cannot run under unotify, or under another supervisor with a listener:
// the inner one fails with status 125. -nested installs the listener with
// FilterFlagAllowNestedListeners, from the patch series "seccomp: support
// nested listeners", which no released kernel contains. On a kernel without
// it, -nested fails before starting COMMAND.
//
// # Limits
//
//   - Every intercepted call waits for a round trip to unotify, which makes
//     call-heavy programs measurably slower.
//   - When COMMAND exits, unotify closes the listener and exits. Processes that
//     COMMAND left running keep the filter, and their intercepted calls then
//     fail with ENOSYS.
//   - COMMAND is started by a helper, a copy of unotify run with COMMAND's
//     arguments (the re-exec route of launch.Start), which installs the
//     filter, passes the listener to unotify and then executes COMMAND. The
//     helper's calls after the filter is in place, such as rt_sigprocmask,
//     prlimit64 and the execve itself, are reported under COMMAND's pid.
//     Under another unotify, the helper's own start shows as an execve of
//     unotify with COMMAND's arguments.
//   - The helper passes the listener with sendmsg before unotify can respond
//     to anything, and the Go runtime's futex, mmap and similar calls can
//     come at any time, so -trace and -deny reject these calls.
//   - Without WAIT_KILLABLE_RECV (Linux 5.19), a signal can interrupt a call
//     at the moment unotify responds to it. The kernel then drops the
//     response and restarts the call, which is reported again.
//   - COMMAND runs with no_new_privs, which installing a filter without
//     CAP_SYS_ADMIN requires, so set-user-ID programs and file capabilities
//     give it no privileges.
package main

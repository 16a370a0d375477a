// target: the process whose getppid calls the benchmark supervisors respond to.
//
// Usage: target CALLS WARMUP SAMPLES
//
// The supervisor starts it with a Unix socket as fd 3 and the read end of a
// pipe as fd 4. The target installs a filter that sends getppid to a
// listener, passes the listener fd to the supervisor over fd 3 (SCM_RIGHTS),
// and waits for end of file on fd 4, so that every target of a run starts
// at once. It then calls getppid WARMUP times and CALLS times more, timing
// each of the CALLS round trips with CLOCK_MONOTONIC (a vDSO call, which the
// filter never sees). Each call must return RESPONSE_VALUE, the value the
// supervisors respond with. Unless SAMPLES is "-", the round trips are
// written to that file as little-endian uint32 nanoseconds.
//
// Exit status: 0 on success, 1 on a wrong return value, 2 on a setup error.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// RESPONSE_VALUE is the value every supervisor returns for getppid; keep it equal
// to harness.ResponseValue. It is above the largest pid (4194304), so a getppid
// that ran for real cannot pass for a response.
#define RESPONSE_VALUE 1234567890L

#define SOCKET_FD 3
#define RELEASE_FD 4

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__loongarch64)
#define NATIVE_ARCH AUDIT_ARCH_LOONGARCH64
#else
#error "add this architecture's AUDIT_ARCH value"
#endif

static void die(const char *what) {
	fprintf(stderr, "target: %s: %s\n", what, strerror(errno));
	exit(2);
}

// install_filter installs "getppid goes to the listener, everything else is
// allowed, a foreign architecture is killed" and returns the listener fd.
static int install_filter(void) {
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("set no_new_privs");
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		die("install filter");
	return fd;
}

static void send_fd(int sock, int fd) {
	char byte = 'L';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("send listener fd");
}

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: target CALLS WARMUP SAMPLES\n");
		return 2;
	}
	long calls = atol(argv[1]);
	long warmup = atol(argv[2]);
	const char *samples_path = argv[3];
	int record = strcmp(samples_path, "-") != 0;
	if (calls < 0 || warmup < 0) {
		fprintf(stderr, "target: CALLS and WARMUP must not be negative\n");
		return 2;
	}

	// Allocate and touch the sample buffer now, so that no page fault
	// lands inside a timed call.
	uint32_t *samples = NULL;
	if (record && calls > 0) {
		samples = calloc((size_t)calls, sizeof(uint32_t));
		if (samples == NULL)
			die("allocate samples");
		memset(samples, 0xff, (size_t)calls * sizeof(uint32_t));
	}

	int listener = install_filter();
	send_fd(SOCKET_FD, listener);
	close(listener);
	close(SOCKET_FD);

	char byte;
	ssize_t n;
	while ((n = read(RELEASE_FD, &byte, 1)) != 0) {
		if (n < 0 && errno != EINTR)
			die("wait for release");
	}
	close(RELEASE_FD);

	long wrong = 0;
	for (long i = 0; i < warmup; i++) {
		if (syscall(SYS_getppid) != RESPONSE_VALUE)
			wrong++;
	}
	for (long i = 0; i < calls; i++) {
		uint64_t start = now_ns();
		long ret = syscall(SYS_getppid);
		uint64_t elapsed = now_ns() - start;
		if (ret != RESPONSE_VALUE)
			wrong++;
		if (samples != NULL)
			samples[i] = elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed;
	}
	if (wrong > 0) {
		fprintf(stderr, "target: %ld of %ld getppid calls did not return the supervisor's response value %ld\n",
			wrong, warmup + calls, RESPONSE_VALUE);
		return 1;
	}

	if (samples != NULL) {
		FILE *f = fopen(samples_path, "wb");
		if (f == NULL)
			die("create samples file");
		// Every architecture listed above is little-endian.
		if (fwrite(samples, sizeof(uint32_t), (size_t)calls, f) != (size_t)calls || fclose(f) != 0)
			die("write samples file");
	}
	return 0;
}

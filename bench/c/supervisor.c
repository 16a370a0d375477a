// supervisor: the C reference supervisor of the benchmark. It does what the
// Go supervisors do, with the raw ioctls and nothing else, so its round trip
// is the cost of the notification mechanism itself on the running kernel.
//
// Usage: supervisor -t TARGET [-k TARGETS] [-n CALLS] [-w WARMUP] [-o SAMPLES] [-s] [-p]
//
// It starts TARGETS copies of the target program (see target.c), receives
// each one's listener fd, sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on it with
// -s, releases every target at once and responds to WARMUP + CALLS getppid
// calls per target with RESPONSE_VALUE. With one target it blocks in
// SECCOMP_IOCTL_NOTIF_RECV; with more it waits for all listeners in one
// epoll set. The first target writes its round trips to SAMPLES. The result
// is one JSON object on stdout, in the format of harness.Result.
//
// With -p and one target it waits as seccomp.Listener does when busy: it
// calls RECV only once poll reports a notification pending, waiting in ppoll
// with a 50 us timeout when none is. A receiver that must return when its
// listener is closed cannot block in RECV, so this measures what such a
// receiver costs with raw system calls and no runtime around them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_VALUE 1234567890L // keep equal to target.c and harness.ResponseValue

// Linux 6.6 uapi values, defined here for older headers.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static void die(const char *what) {
	fprintf(stderr, "supervisor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// count_threads returns the number of entries in /proc/self/task.
static int count_threads(void) {
	DIR *dir = opendir("/proc/self/task");
	if (dir == NULL)
		die("open /proc/self/task");
	int count = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] != '.')
			count++;
	}
	closedir(dir);
	return count;
}

static int recv_fd(int sock) {
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("receive listener fd");
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (n == 0 || cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "supervisor: target exited without sending its listener fd\n");
		exit(1);
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

// respond receives one notification on fd and responds with RESPONSE_VALUE. It
// returns 0 on success and -1 when the notification went away (ENOENT).
static int respond(int fd) {
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));
	while (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
		if (errno == ENOENT)
			return -1;
		if (errno != EINTR)
			die("SECCOMP_IOCTL_NOTIF_RECV");
	}

	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = RESPONSE_VALUE;
	while (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) {
		if (errno == ENOENT)
			return -1;
		if (errno != EINTR)
			die("SECCOMP_IOCTL_NOTIF_SEND");
	}
	return 0;
}

// wait_pending returns once a notification is pending on fd or fd hangs
// up: a poll that returns at once, then ppoll with a 50 us timeout until
// one reports an event.
static void wait_pending(int fd) {
	struct pollfd p = {.fd = fd, .events = POLLIN};
	const struct timespec zero = {0, 0}, wait = {0, 50000};
	const struct timespec *timeout = &zero;
	for (;;) {
		int n = ppoll(&p, 1, timeout, NULL);
		if (n > 0)
			return;
		if (n < 0 && errno != EINTR)
			die("ppoll");
		timeout = &wait;
	}
}

int main(int argc, char **argv) {
	const char *target = NULL, *samples = "-";
	long targets = 1, calls = 10000, warmup = 0;
	int sync_wake_up = 0, poll_first = 0;
	int opt;
	while ((opt = getopt(argc, argv, "t:k:n:w:o:sp")) != -1) {
		switch (opt) {
		case 't': target = optarg; break;
		case 'k': targets = atol(optarg); break;
		case 'n': calls = atol(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 'o': samples = optarg; break;
		case 's': sync_wake_up = 1; break;
		case 'p': poll_first = 1; break;
		default:
			fprintf(stderr, "usage: supervisor -t TARGET [-k TARGETS] [-n CALLS] [-w WARMUP] [-o SAMPLES] [-s] [-p]\n");
			return 2;
		}
	}
	if (target == NULL || targets < 1 || calls < 0 || warmup < 0) {
		fprintf(stderr, "supervisor: -t is required, -k must be at least 1, -n and -w not negative\n");
		return 2;
	}

	int release[2];
	if (pipe2(release, O_CLOEXEC) != 0)
		die("create release pipe");

	int *fds = calloc((size_t)targets, sizeof(int));
	pid_t *pids = calloc((size_t)targets, sizeof(pid_t));
	long *served = calloc((size_t)targets, sizeof(long));
	if (fds == NULL || pids == NULL || served == NULL)
		die("allocate target table");

	char calls_arg[32], warmup_arg[32];
	snprintf(calls_arg, sizeof(calls_arg), "%ld", calls);
	snprintf(warmup_arg, sizeof(warmup_arg), "%ld", warmup);

	for (long i = 0; i < targets; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			die("create socket pair");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			// dup2 clears close-on-exec on the copies at fds 3 and 4.
			if (dup2(sv[1], 3) < 0 || dup2(release[0], 4) < 0)
				_exit(2);
			char *args[] = {(char *)target, calls_arg, warmup_arg, (char *)(i == 0 ? samples : "-"), NULL};
			execv(target, args);
			_exit(2);
		}
		close(sv[1]);
		pids[i] = pid;
		fds[i] = recv_fd(sv[0]);
		close(sv[0]);
		if (sync_wake_up && ioctl(fds[i], SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) != 0)
			die("SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP)");
	}
	close(release[0]);

	int epfd = -1;
	if (targets > 1) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			die("epoll_create1");
		for (long i = 0; i < targets; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) != 0)
				die("epoll_ctl");
		}
	}
	int threads_idle = count_threads();

	long per_target = warmup + calls;
	uint64_t start = now_ns();
	close(release[1]);

	if (targets == 1) {
		while (served[0] < per_target) {
			if (poll_first)
				wait_pending(fds[0]);
			if (respond(fds[0]) == 0)
				served[0]++;
		}
	} else {
		long remaining = targets;
		for (long i = 0; i < targets && per_target == 0; i++)
			remaining--;
		struct epoll_event events[64];
		while (remaining > 0) {
			int n = epoll_wait(epfd, events, 64, -1);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				die("epoll_wait");
			}
			for (int j = 0; j < n; j++) {
				long i = (long)events[j].data.u64;
				if (served[i] >= per_target)
					continue;
				if (respond(fds[i]) == 0 && ++served[i] == per_target) {
					epoll_ctl(epfd, EPOLL_CTL_DEL, fds[i], NULL);
					remaining--;
				}
			}
		}
	}
	uint64_t wall = now_ns() - start;
	int threads_end = count_threads();

	int failed = 0;
	for (long i = 0; i < targets; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "supervisor: target %ld (pid %d) failed with status %#x\n", i, (int)pids[i], status);
			failed = 1;
		}
		close(fds[i]);
	}
	if (failed)
		return 1;

	printf("{\"impl\":\"%s\",\"sync_wake_up\":%s,\"targets\":%ld,\"calls\":%ld,\"warmup\":%ld,"
	       "\"served\":%ld,\"wall_ns\":%llu,\"threads_idle\":%d,\"threads_end\":%d,\"allocs_per_call\":-1}\n",
		poll_first ? "c-poll" : "c", sync_wake_up ? "true" : "false", targets, calls, warmup, targets * per_target,
		(unsigned long long)wall, threads_idle, threads_end);
	return 0;
}

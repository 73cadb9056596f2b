/*
 * floor_exec.c - the C floor of `rtmp -d --exec CMD [ARG]...` (benches/compare.sh, group e).
 *
 * Usage: floor_exec [-w | -W | -g] CMD [ARG]...
 *
 * Does the job of `rtmp -d --exec` with nothing a C program could leave out: creates a
 * directory in $TMPDIR (else /tmp), runs CMD [ARG]... PATH, waits for it, removes the
 * directory and exits with CMD's status (127: CMD not found, 126: not runnable, 128+N: CMD
 * died of signal N; rtmp re-raises the signal instead, which a floor need not do).
 *
 *   (no flag)  mkdtemp, vfork + execvp, waitpid, rmdir. No protection against SIGKILL.
 *   -w         the same plus a forked watchdog: the least a SIGKILL-proof wrapper pays. This
 *              is the anchor of the e-exec-floor budget.
 *   -W         as -w, and the wrapper also waits for the watchdog to exit before it exits
 *              (rtmp's rule "no guardian outlives rtmp"); informational.
 *   -g         rtmp's guarantees in C: as -W, but the watchdog is the one that creates the
 *              directory (after its own setsid), and the wrapper waits for its reply with the
 *              path. This closes the window of -w and -W (a SIGKILL of the wrapper between
 *              mkdtemp and the write of the path), at the price of one round trip before the
 *              command can start: the floor of what rtmp does; informational.
 *
 * The watchdog (-w, -W), choice by choice:
 *   - It is forked BEFORE the directory is created, and the parent moves it into its own
 *     process group with setpgid(pid, pid) right after fork (POSIX allows the parent to do so
 *     before the child execs). So it is out of the wrapper's process group (Ctrl-C, a terminal
 *     hang-up to the foreground group, `kill -9 -PGID`) before the path exists, with no
 *     "ready" round trip. (The child does not call setpgid itself: the parent's call happens
 *     before mkdtemp, which is all the guarantee needs.)
 *   - It talks to the wrapper over a socketpair (AF_UNIX, SOCK_STREAM): the wrapper keeps one
 *     end (SOCK_CLOEXEC, so CMD never inherits it), the watchdog the other. A plain pipe would
 *     cost the same, but a write to it after the watchdog was killed (by someone else) raises
 *     SIGPIPE in the wrapper, and ignoring SIGPIPE would leak into CMD; send(MSG_NOSIGNAL)
 *     on a socket avoids both at no extra system call.
 *   - Messages: "/path\n" written by the wrapper right after mkdtemp; "P<pid>\n" written by the
 *     command's own process between vfork and exec (getpid + send are allowed there), so the
 *     watchdog cannot see end-of-file before it knows the pid of the command while the command
 *     can still be starting; "D" written by the wrapper after its own rmdir.
 *   - On "D" the watchdog exits at once. On end-of-file without "D" (the wrapper died), it
 *     waits until the command has exited (pidfd_open + poll; kill(pid, 0) every 100 ms without
 *     pidfd), then removes the path with `rm -rf --` (which does not follow symlinks).
 *   - It puts /dev/null on stdin, stdout and stderr and moves to "/": it must not hold the
 *     caller's pipes open (`x=$(wrapper ...)` would wait for it) nor pin a mount. It has no
 *     other descriptor to close (the wrapper opens none before fork besides the socketpair).
 *   - It changes no signal disposition: its own process group already keeps terminal signals
 *     away, and the floor installs no handlers it could inherit.
 *   - With -w the wrapper does not reap the watchdog: it exits right after writing "D"; the
 *     watchdog exits a few microseconds later and is reaped by init (or a subreaper). -W adds
 *     the waitpid, which costs the watchdog's exit (tearing down its copy of the address
 *     space) on the wrapper's critical path.
 *   - Known window, as in rtmp: a SIGKILL between mkdtemp and the write of the path leaves the
 *     directory behind (the name is only known after mkdtemp).
 *
 * Build: gcc -O2 -static -Wall -Wextra -o floor_exec floor_exec.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* "P<pid>\n" into buf (at least 16 bytes); returns its length. Async-signal-safe. */
static size_t pid_message(pid_t pid, char *buf)
{
	char digits[12];
	size_t n = 0, len = 0;
	unsigned long v = (unsigned long)pid;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	buf[len++] = 'P';
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len++] = '\n';
	return len;
}

/* Flags, at file scope so that vfork cannot clobber them (-Wclobbered). */
static int guard, reap, creates;

/* "$TMPDIR/tmp.XXXXXX" (TMPDIR unset or empty: /tmp), created with mkdtemp; NULL on failure. */
static char *make_dir(void)
{
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	size_t dl = strlen(dir);
	char *path = malloc(dl + sizeof "/tmp.XXXXXX" + 1);
	if (path == NULL)
		return NULL;
	memcpy(path, dir, dl);
	memcpy(path + dl, "/tmp.XXXXXX", sizeof "/tmp.XXXXXX");
	return mkdtemp(path);
}

/* The watchdog: never returns. `created` is the path when the watchdog made it (-g), with its
 * reply already sent; NULL when the wrapper will send it. */
static void watchdog(int rd, const char *created)
{
	char buf[4200];
	size_t got = 0;
	int done = 0;
	if (created != NULL) {
		/* As if the wrapper had sent it: the first line of buf is the path. */
		got = strlen(created);
		memcpy(buf, created, got);
		buf[got++] = '\n';
	}
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	if (chdir("/") != 0) {
		/* Nothing to do: "/" always exists; keep going. */
	}
	for (;;) {
		ssize_t n = read(rd, buf + got, sizeof buf - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, 'D', got) != NULL) {
			done = 1;
			break;
		}
		if (got == sizeof buf - 1)
			break; /* cannot happen: a path is shorter than PATH_MAX */
	}
	if (done)
		_exit(0);
	buf[got] = '\0';
	/* The wrapper is gone. The path is the first line; the command's pid follows "P". */
	char *nl = strchr(buf, '\n');
	if (buf[0] != '/' || nl == NULL)
		_exit(0); /* no path announced: nothing was created */
	*nl = '\0';
	char *p = strchr(nl + 1, 'P');
	if (p != NULL && strchr(p, '\n') != NULL) {
		pid_t pid = (pid_t)strtol(p + 1, NULL, 10);
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd >= 0) {
			struct pollfd w = { .fd = pfd, .events = POLLIN };
			while (poll(&w, 1, -1) < 0 && errno == EINTR)
				;
		} else {
			while (kill(pid, 0) == 0 || errno == EPERM)
				usleep(100000);
		}
	}
	execlp("rm", "rm", "-rf", "--", buf, (char *)NULL);
	_exit(1);
}

int main(int argc, char **argv)
{
	int argi = 1;
	if (argi < argc && strcmp(argv[argi], "-w") == 0) {
		guard = 1;
		argi++;
	} else if (argi < argc && strcmp(argv[argi], "-W") == 0) {
		guard = reap = 1;
		argi++;
	} else if (argi < argc && strcmp(argv[argi], "-g") == 0) {
		guard = reap = creates = 1;
		argi++;
	}
	if (argi >= argc) {
		fputs("usage: floor_exec [-w | -W | -g] CMD [ARG]...\n", stderr);
		return 125;
	}

	int wr = -1;
	pid_t wd = -1;
	if (guard) {
		int p[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) {
			perror("floor_exec: socketpair");
			return 125;
		}
		wd = fork();
		if (wd < 0) {
			perror("floor_exec: fork");
			return 125;
		}
		if (wd == 0) {
			close(p[1]);
			if (!creates)
				watchdog(p[0], NULL);
			/* -g: out of the wrapper's session and group before the path exists. */
			setsid();
			char *made = make_dir();
			if (made == NULL) {
				send_all(p[0], "E\n", 2);
				_exit(1);
			}
			size_t ml = strlen(made);
			made[ml] = '\n';
			send_all(p[0], made, ml + 1);
			made[ml] = '\0';
			watchdog(p[0], made);
		}
		close(p[0]);
		wr = p[1];
		if (!creates && setpgid(wd, wd) != 0) {
			perror("floor_exec: setpgid");
			return 125;
		}
	}

	char *path;
	if (creates) {
		/* The watchdog's reply: the path and a newline, or "E". */
		static char reply[4200];
		size_t got = 0;
		while (got == 0 || reply[got - 1] != '\n') {
			ssize_t n = read(wr, reply + got, sizeof reply - 1 - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || got + (size_t)n >= sizeof reply - 1) {
				fputs("floor_exec: no answer from the watchdog\n", stderr);
				return 125;
			}
			got += (size_t)n;
		}
		reply[got - 1] = '\0';
		if (reply[0] != '/') {
			fputs("floor_exec: the watchdog could not create the directory\n", stderr);
			return 125;
		}
		path = reply;
	} else if ((path = make_dir()) == NULL) {
		perror("floor_exec: mkdtemp");
		return 125; /* EOF without a path: the watchdog exits touching nothing */
	}
	size_t pl = strlen(path);
	if (guard && !creates) {
		path[pl] = '\n';
		send_all(wr, path, pl + 1);
		path[pl] = '\0';
	}

	/* argv for CMD: its words, then the path. */
	int n = argc - argi;
	char **cargv = malloc(sizeof(char *) * (size_t)(n + 2));
	if (cargv == NULL)
		return 125;
	for (int i = 0; i < n; i++)
		cargv[i] = argv[argi + i];
	cargv[n] = path;
	cargv[n + 1] = NULL;

	char msg[16];
	pid_t pid = vfork();
	if (pid == 0) {
		if (guard)
			send_all(wr, msg, pid_message(getpid(), msg));
		execvp(cargv[0], cargv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	int status = 0, rc;
	if (pid < 0) {
		perror("floor_exec: vfork");
		rc = 125;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (rmdir(path) != 0)
		perror("floor_exec: rmdir");
	if (guard) {
		send_all(wr, "D", 1);
		if (reap)
			while (waitpid(wd, NULL, 0) < 0 && errno == EINTR)
				;
	}
	return rc;
}

/*
 * rmtree.c - the physical floor of removing a tree (benches/compare.sh, group f).
 *
 * Usage: rmtree [-j N] PATH...
 *
 * Removes each PATH and everything under it, like `rm -rf --`, with N threads (default 1).
 * It is a yardstick for rtmp's remover, not a tool: no prompts, no --one-file-system, no
 * protection of "/".
 *
 * The walk is the one rtmp's must be:
 *   - descriptor-relative: every directory is opened with openat() relative to its parent's
 *     descriptor (O_DIRECTORY | O_NOFOLLOW), entries are removed with unlinkat() relative to
 *     it, so no path is resolved twice and a directory swapped for a symlink is never followed
 *     (the open fails with ELOOP/ENOTDIR and the entry is unlinked as a non-directory);
 *   - entries are read with getdents64 into a 32 KiB buffer, and the entry type comes from
 *     d_type (an fstatat(AT_SYMLINK_NOFOLLOW) only for DT_UNKNOWN); non-directories are
 *     unlinked while the directory is being read;
 *   - ENOENT is not an error (someone else removed it first, as with rm -f).
 *
 * Threads: each directory is one task. A worker opens it, unlinks its non-directories and
 * pushes its subdirectories on a shared LIFO stack (one mutex + condition variable; taken
 * once per directory, never per file). A directory counts its unfinished subdirectories plus
 * one for its own scan; whoever brings the count to zero closes its descriptor, removes it
 * with unlinkat(parent, name, AT_REMOVEDIR) and then releases the parent, so removal climbs
 * the tree without any thread waiting for another. With -j 1 the same code runs in the main
 * thread alone (no thread is created), so -j 1 against -j 2 measures only the parallelism.
 *
 * Descriptors: a directory keeps its own descriptor open while subdirectories of it are
 * pending (their openat and rmdir need it). With the LIFO order the open set stays close to
 * (depth of the tree) x (threads) for ordinary trees; the soft RLIMIT_NOFILE is raised to the
 * hard one, and EMFILE is reported as an error (rtmp's remover must budget descriptors
 * instead; this floor does not need to for the benchmark's trees).
 *
 * Build: gcc -O2 -static -pthread -Wall -Wextra -o rmtree rmtree.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct node {
	struct node *parent; /* NULL for a PATH argument */
	int fd;              /* own descriptor, open from the scan until the last child is gone */
	int pending;         /* unfinished subdirectories + 1 while scanning (atomic) */
	char name[];         /* relative to parent->fd, or to the cwd for a PATH argument */
};

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct node **stack;
static size_t depth, room;
static int busy;   /* workers processing a node */
static int failed; /* any error (atomic) */

static void report(const char *what, const struct node *n)
{
	fprintf(stderr, "rmtree: %s %s: %s\n", what, n->name, strerror(errno));
	__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

static int parent_fd(const struct node *n)
{
	return n->parent != NULL ? n->parent->fd : AT_FDCWD;
}

static struct node *new_node(struct node *parent, const char *name)
{
	size_t len = strlen(name) + 1;
	struct node *n = malloc(sizeof *n + len);
	if (n == NULL) {
		perror("rmtree: malloc");
		exit(1);
	}
	n->parent = parent;
	n->fd = -1;
	n->pending = 1;
	memcpy(n->name, name, len);
	return n;
}

static void push(struct node *n)
{
	pthread_mutex_lock(&lock);
	if (depth == room) {
		room = room != 0 ? 2 * room : 1024;
		stack = realloc(stack, room * sizeof *stack);
		if (stack == NULL) {
			perror("rmtree: realloc");
			exit(1);
		}
	}
	stack[depth++] = n;
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
}

/* Drop one reference of n; the last one removes n and climbs to its parent. */
static void release(struct node *n)
{
	while (n != NULL && __atomic_sub_fetch(&n->pending, 1, __ATOMIC_ACQ_REL) == 0) {
		struct node *up = n->parent;
		if (n->fd >= 0)
			close(n->fd);
		if (unlinkat(parent_fd(n), n->name, AT_REMOVEDIR) != 0 && errno != ENOENT)
			report("cannot remove directory", n);
		free(n);
		n = up;
	}
}

static void scan(struct node *n)
{
	int pfd = parent_fd(n);
	int fd = openat(pfd, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) {
			/* Not a directory (or a symlink to one): remove the entry itself. */
			if (unlinkat(pfd, n->name, 0) != 0 && errno != ENOENT)
				report("cannot remove", n);
		} else if (errno != ENOENT) {
			report("cannot open directory", n);
		}
		/* Nothing to rmdir: drop the scan reference without the rmdir. */
		struct node *up = n->parent;
		free(n);
		release(up);
		return;
	}
	n->fd = fd;
	char buf[32768] __attribute__((aligned(8)));
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			report("cannot read directory", n);
			break;
		}
		if (got == 0)
			break;
		for (long off = 0; off < got;) {
			struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + off);
			off += e->d_reclen;
			const char *name = e->d_name;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			unsigned char type = e->d_type;
			if (type == DT_UNKNOWN) {
				struct stat st;
				if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
					if (errno != ENOENT) {
						fprintf(stderr, "rmtree: cannot stat %s/%s: %s\n",
							n->name, name, strerror(errno));
						__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
					}
					continue;
				}
				type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
			}
			if (type == DT_DIR) {
				__atomic_add_fetch(&n->pending, 1, __ATOMIC_RELAXED);
				push(new_node(n, name));
			} else if (unlinkat(fd, name, 0) != 0 && errno != ENOENT) {
				fprintf(stderr, "rmtree: cannot remove %s/%s: %s\n", n->name, name,
					strerror(errno));
				__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
			}
		}
	}
	release(n); /* the scan's own reference */
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (depth == 0 && busy > 0)
			pthread_cond_wait(&more, &lock);
		if (depth == 0) {
			/* Nothing queued and nobody can queue more: done. Wake the others. */
			pthread_cond_broadcast(&more);
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		struct node *n = stack[--depth];
		busy++;
		pthread_mutex_unlock(&lock);
		scan(n);
		pthread_mutex_lock(&lock);
		busy--;
		if (busy == 0 && depth == 0)
			pthread_cond_broadcast(&more);
		pthread_mutex_unlock(&lock);
	}
}

int main(int argc, char **argv)
{
	int jobs = 1, argi = 1;
	if (argi + 1 < argc && strcmp(argv[argi], "-j") == 0) {
		jobs = atoi(argv[argi + 1]);
		argi += 2;
	} else if (argi < argc && strncmp(argv[argi], "-j", 2) == 0 && argv[argi][2] != '\0') {
		jobs = atoi(argv[argi] + 2);
		argi++;
	}
	if (argi < argc && strcmp(argv[argi], "--") == 0)
		argi++;
	if (jobs < 1 || jobs > 1024 || argi >= argc) {
		fputs("usage: rmtree [-j N] PATH...\n", stderr);
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (; argi < argc; argi++)
		push(new_node(NULL, argv[argi]));

	pthread_t *tids = calloc((size_t)jobs, sizeof *tids);
	if (tids == NULL)
		return 1;
	for (int i = 1; i < jobs; i++) {
		int e = pthread_create(&tids[i], NULL, worker, NULL);
		if (e != 0) {
			fprintf(stderr, "rmtree: pthread_create: %s\n", strerror(e));
			jobs = i;
			break;
		}
	}
	worker(NULL);
	for (int i = 1; i < jobs; i++)
		pthread_join(tids[i], NULL);
	return failed ? 1 : 0;
}

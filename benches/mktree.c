/*
 * mktree.c - builds and moves the trees of benches/compare.sh, group f (tree removal).
 *
 * Usage: mktree DIR TOP SUB FILES   create DIR holding TOP directories of SUB directories
 *                                   of FILES empty files each (TOP*SUB*FILES files,
 *                                   TOP + TOP*SUB directories); DIR must not exist
 *        mktree -m SRC DIR          rename(SRC, DIR/t): move a built tree into DIR
 *
 * Building is the untimed --prepare step, so it is made cheap: one mknodat(S_IFREG) per file
 * (instead of open + close) and mkdirat, all relative to open directory descriptors.
 *
 * -m is the timed part of rtmp's side: `rtmp -d --exec mktree -m SRC` runs
 * `mktree -m SRC PATH`, which moves a tree built beforehand into rtmp's fresh directory with
 * one rename(2), O(1) whatever the tree's size (SRC and PATH are on the same filesystem).
 * rtmp then removes PATH with the tree in it, so its run is start-up + exec of this program
 * + the removal, and not the building of the tree.
 *
 * Build: gcc -O2 -static -Wall -Wextra -o mktree mktree.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *name)
{
	fprintf(stderr, "mktree: %s %s: ", what, name);
	perror(NULL);
	exit(1);
}

static int mkdir_open(int at, const char *name)
{
	if (mkdirat(at, name, 0700) != 0)
		die("cannot create directory", name);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die("cannot open directory", name);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "-m") == 0) {
		size_t len = strlen(argv[3]);
		char *dst = malloc(len + 3);
		if (dst == NULL)
			return 1;
		memcpy(dst, argv[3], len);
		memcpy(dst + len, "/t", 3);
		if (rename(argv[2], dst) != 0)
			die("cannot move", argv[2]);
		return 0;
	}
	if (argc != 5) {
		fputs("usage: mktree DIR TOP SUB FILES | mktree -m SRC DIR\n", stderr);
		return 2;
	}
	long top = atol(argv[2]), sub = atol(argv[3]), files = atol(argv[4]);
	if (top < 0 || sub < 0 || files < 0 || top > 100000 || sub > 100000 || files > 1000000) {
		fputs("mktree: TOP, SUB, FILES out of range\n", stderr);
		return 2;
	}
	int root = mkdir_open(AT_FDCWD, argv[1]);
	char name[32];
	for (long i = 0; i < top; i++) {
		snprintf(name, sizeof name, "a%04ld", i);
		int a = mkdir_open(root, name);
		for (long j = 0; j < sub; j++) {
			snprintf(name, sizeof name, "b%04ld", j);
			int b = mkdir_open(a, name);
			for (long k = 0; k < files; k++) {
				snprintf(name, sizeof name, "f%06ld", k);
				if (mknodat(b, name, S_IFREG | 0600, 0) != 0)
					die("cannot create", name);
			}
			close(b);
		}
		close(a);
	}
	close(root);
	return 0;
}

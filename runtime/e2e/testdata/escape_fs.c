/* A hostile guest: it tries every way out of its --dir grants that the audit of issue 17
 * found, and the legitimate uses that must keep working. Grants (see sandbox_test.go):
 *   /g    read-write, with links the host made: up -> ../../../../../.., abs -> /etc,
 *         proc -> /proc/self/root, in -> sub (inside), sub/f a file;
 *   /r    read-only, with f a file;
 *   /proc the host's /proc.
 * Each step prints "ok NAME" or "FAIL NAME: ...". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

static int fails;

/* expect checks that rc failed with errno want (or succeeded when want is 0). */
static void expect(const char *name, int rc, int want)
{
    int got = rc < 0 ? errno : 0;
    if (got == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: errno %d (%s), want %d (%s)\n", name, got, strerror(got), want, strerror(want));
        fails++;
    }
}

static int open_close(const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    if (fd >= 0)
        close(fd);
    return fd < 0 ? -1 : 0;
}

static int read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, n - 1);
    close(fd);
    if (k < 0)
        return -1;
    buf[k] = 0;
    return 0;
}

int main(void)
{
    guest_init();
    char buf[64];
    struct stat st;

    /* 1. The audit's attack: make a link that climbs out, then read and write through it. */
    expect("symlink_relative_out", symlink("../../../../..", "/g/x"), EPERM);
    expect("symlink_dotdot", symlink("..", "/g/y"), EPERM);
    expect("symlink_absolute", symlink("/etc", "/g/z"), EPERM);
    expect("symlink_proc_root", symlink("/proc/self/root", "/g/w"), EPERM);
    expect("open_through_guest_link", open_close("/g/x/etc/shadow", O_RDONLY), ENOENT);

    /* 2. Links that were there before the guest started. */
    expect("open_relative_link_out", open_close("/g/up/etc/passwd", O_RDONLY), EPERM);
    expect("open_absolute_link_out", open_close("/g/abs/passwd", O_RDONLY), EPERM);
    expect("open_proc_link_out", open_close("/g/proc/etc/passwd", O_RDONLY), EPERM);
    expect("create_through_link_out", open_close("/g/up/tmp/wbpf-escaped", O_CREAT | O_WRONLY), EPERM);
    expect("stat_through_link_out", stat("/g/up/etc/passwd", &st), EPERM);
    expect("mkdir_through_link_out", mkdir("/g/up/tmp/wbpf-escaped-dir", 0755), EPERM);
    expect("unlink_through_link_out", unlink("/g/abs/hostname"), EPERM);

    /* 3. .. chains. */
    expect("dotdot_above_grant", open_close("/g/../etc/passwd", O_RDONLY), EPERM);
    expect("dotdot_chain", open_close("/g/sub/../../../../etc/passwd", O_RDONLY), EPERM);

    /* 4. /proc magic links: the host process's root, cwd and descriptors. */
    expect("proc_self_root", open_close("/proc/self/root/etc/passwd", O_RDONLY), ELOOP);
    expect("proc_self_cwd", open_close("/proc/self/cwd", O_RDONLY), ELOOP);
    expect("proc_self_fd", open_close("/proc/self/fd/0", O_RDONLY), ELOOP);

    /* 5. What must still work: links inside, links the guest makes inside, ordinary files. */
    expect("open_link_inside", read_file("/g/in/f", buf, sizeof buf), 0);
    CHECK(strcmp(buf, "inside") == 0, "read %s", buf);
    expect("symlink_inside", symlink("sub/f", "/g/mine"), 0);
    expect("open_guest_link_inside", read_file("/g/mine", buf, sizeof buf), 0);
    expect("symlink_dotdot_inside", symlink("../sub/f", "/g/sub/up1"), 0);
    expect("open_dotdot_link_inside", read_file("/g/in/up1", buf, sizeof buf), 0);
    CHECK(strcmp(buf, "inside") == 0, "read %s", buf);
    expect("create_inside", open_close("/g/sub/new", O_CREAT | O_WRONLY), 0);
    expect("readlink_out", readlink("/g/up", buf, sizeof buf) < 0 ? -1 : 0, 0);

    /* 6. Read-only grants. */
    expect("ro_read", read_file("/r/f", buf, sizeof buf), 0);
    expect("ro_write", open_close("/r/f", O_WRONLY), EROFS);
    expect("ro_create", open_close("/r/new", O_CREAT | O_RDONLY), EROFS);
    expect("ro_truncate", open_close("/r/f", O_RDONLY | O_TRUNC), EROFS);
    expect("ro_unlink", unlink("/r/f"), EROFS);
    expect("ro_mkdir", mkdir("/r/d", 0755), EROFS);

    printf("done fails=%d\n", fails);
    return fails ? 1 : 0;
}

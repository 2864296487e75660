/* Shared by the test guests: line-buffered stdout (so the test sees each line as it is
 * printed through a pipe) and CHECK, which prints what went wrong and exits 1. */
#ifndef E2E_GUEST_H
#define E2E_GUEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            int e_ = errno;                                                                     \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                              \
            printf(__VA_ARGS__);                                                                \
            printf(" (errno %d: %s)\n", e_, strerror(e_));                                      \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static inline void guest_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#endif

// target: the program the uprobe example traces. It calls uprobed_add N times and prints the
// sums. Built for the host by `make -C examples uprobe` (not committed).
//
// usage: target [N]
#include <stdio.h>
#include <stdlib.h>

/* noinline: the function must exist, and be called, for a uprobe to fire on it. */
__attribute__((noinline)) int uprobed_add(int a, int b)
{
    __asm__ volatile("" ::: "memory");
    return a + b;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    for (int i = 1; i <= n; i++)
        printf("%d + %d = %d\n", i, 10 * i, uprobed_add(i, 10 * i));
    return 0;
}

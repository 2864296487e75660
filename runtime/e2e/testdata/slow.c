// Guest of TestSecondSignalInVerifier: prints "loading", then loads slow.bpf.o, which the
// verifier takes seconds to reject.
#include <stdio.h>

#include "wbpf.h"

static const unsigned char obj[] = {
#embed "slow.bpf.o"
};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("loading\n");
    struct bpf_object *o = bpf_object__open_mem(obj, sizeof(obj), NULL);
    if (!o)
        return 2;
    return bpf_object__load(o) == 0 ? 0 : 3;
}

// Guest of TestStdinFlushesStdout: a line protocol over stdio, as an agent driven by another
// process speaks it. It prints "ready N", reads one line from stdin, answers "got LINE" and goes
// on until stdin ends.
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[64];
    for (int n = 1;; n++) {
        printf("ready %d\n", n);
        if (!fgets(line, sizeof(line), stdin))
            return 0;
        line[strcspn(line, "\n")] = 0;
        printf("got %s\n", line);
    }
}

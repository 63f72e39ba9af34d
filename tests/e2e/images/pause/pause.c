/*
 * The pod sandbox's process for the e2e node: it holds the pod's namespaces, does nothing, reaps the
 * zombies of the pod (it is pid 1 of a pod with a shared pid namespace) and exits at SIGTERM or SIGINT.
 * The same behaviour as Kubernetes' build/pause/linux/pause.c, written afresh because no registry is
 * reachable from these machines. Built with `gcc -static` by tests/e2e/node/images.py into an image
 * FROM scratch (localhost/pause:e2e).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "e2e-1"

static void sigdown(int signo) {
    psignal(signo, "Shutting down, got signal");
    exit(0);
}

static void sigreap(int signo) {
    (void)signo;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        printf("pause.c %s\n", VERSION);
        return 0;
    }
    if (getpid() != 1) {
        fprintf(stderr, "Warning: pause should be the first process\n");
    }

    struct sigaction down = {.sa_handler = sigdown};
    struct sigaction reap = {.sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP};
    if (sigaction(SIGINT, &down, NULL) < 0 || sigaction(SIGTERM, &down, NULL) < 0) {
        return 1;
    }
    if (sigaction(SIGCHLD, &reap, NULL) < 0) {
        return 2;
    }

    for (;;) {
        pause();
    }
    fprintf(stderr, "Error: infinite loop terminated\n");
    return 42;
}

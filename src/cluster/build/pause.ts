import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../exec/run.js';

/**
 * The sandbox ("pause") binary: what upstream's build/pause/linux/pause.c does, as a static C
 * program. SIGINT/SIGTERM end it with 0, SIGCHLD reaps zombies (it is PID 1 of the pod), then it
 * sleeps in pause() forever.
 */
export const PAUSE_C = `#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void sigdown(int signo) { (void)signo; _exit(0); }
static void sigreap(int signo) { (void)signo; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "-v") == 0) { printf("pause (stackport)\\n"); return 0; }
  if (getpid() != 1) fprintf(stderr, "Warning: pause should be the first process\\n");
  struct sigaction down = {.sa_handler = sigdown};
  struct sigaction reap = {.sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &down, NULL) < 0) return 1;
  if (sigaction(SIGTERM, &down, NULL) < 0) return 2;
  if (sigaction(SIGCHLD, &reap, NULL) < 0) return 3;
  for (;;) pause();
  return 42;
}
`;

export async function buildPause(workDir: string, out: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const src = join(workDir, 'pause.c');
  await writeFile(src, PAUSE_C);
  await run(['gcc', '-Os', '-static', '-Wall', '-o', out, src], { what: 'compiling pause', hint: 'apt-get install gcc libc6-dev' });
  await run(['strip', out], { what: 'stripping pause' });
}

// SPDX-License-Identifier: MIT
/*
 * wake - what waking a sleeping process costs on this host, for `make bench`: two processes
 * pinned to the CPUs given pass a byte back and forth over pipes, each sleeping in read()
 * until the other writes. Half a round trip is one wake-up, the floor under the latency any
 * relay that sleeps between datagrams adds. Bounded in count; no network.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TRIPS 20000
#define MAX_TRIPS 10000000
#define WARMUP_TRIPS 1000

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		err(2, "CPU %d", cpu);
}

static long number(const char *what, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		errx(2, "%s '%s': want 0 to %ld", what, s, max);
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Read one byte and write it back, n times. */
static void bounce(int in, int out, long n)
{
	char c;

	for (long i = 0; i < n; i++)
		if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
			err(1, "pipe");
}

int main(int argc, char **argv)
{
	int ping[2], pong[2], status;
	long cpu_a, cpu_b, trips = DEFAULT_TRIPS;
	uint64_t t0 = 0;
	pid_t pid;
	char c = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: wake CPU_A CPU_B [ROUND_TRIPS]\n"
				"       prints the mean one-way wake-up in microseconds\n");
		return 2;
	}
	cpu_a = number("CPU_A", argv[1], CPU_SETSIZE - 1);
	cpu_b = number("CPU_B", argv[2], CPU_SETSIZE - 1);
	if (argc == 4)
		trips = number("ROUND_TRIPS", argv[3], MAX_TRIPS);
	pin((int)cpu_a);
	if (pipe(ping) < 0 || pipe(pong) < 0)
		err(1, "pipe");
	pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		close(ping[1]);
		close(pong[0]);
		pin((int)cpu_b);
		bounce(ping[0], pong[1], WARMUP_TRIPS + trips);
		_exit(0);
	}
	/* Our copies of the child's ends closed: if it dies, our read sees EOF, not a hang. */
	close(ping[0]);
	close(pong[1]);
	for (long i = 0; i < WARMUP_TRIPS + trips; i++) {
		if (i == WARMUP_TRIPS)
			t0 = now_ns();
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			errx(1, "the other side stopped");
	}
	printf("cpus=%ld,%ld round_trips=%ld wake_us=%.2f\n", cpu_a, cpu_b, trips,
	       trips ? (double)(now_ns() - t0) / (double)trips / 2000.0 : 0.0);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		errx(1, "the other side failed");
	return 0;
}

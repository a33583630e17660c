// SPDX-License-Identifier: MIT
/*
 * noring [-s setup|enter|register|probe] PROGRAM [ARGS...]: run PROGRAM with one io_uring system
 * call refused by a seccomp filter, to test mcr's exit status 69 and its advice. setup (the
 * default), enter and register fail with EPERM, as a container runtime's default profile makes
 * them; probe fails only io_uring_register(IORING_REGISTER_PROBE), with EINVAL, as a kernel
 * older than Linux 5.6 does.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REGISTER_PROBE 8	/* IORING_REGISTER_PROBE, from linux/io_uring.h */

int main(int argc, char *argv[])
{
	const char *which = "setup";
	unsigned int nr;
	int arg = 1;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		which = argv[2];
		arg = 3;
	}
	if (!strcmp(which, "setup"))
		nr = __NR_io_uring_setup;
	else if (!strcmp(which, "enter"))
		nr = __NR_io_uring_enter;
	else if (!strcmp(which, "register") || !strcmp(which, "probe"))
		nr = __NR_io_uring_register;
	else
		arg = argc;
	if (arg >= argc) {
		fputs("usage: noring [-s setup|enter|register|probe] PROGRAM [ARGS...]\n", stderr);
		return 2;
	}

	/* probe: register with opcode IORING_REGISTER_PROBE only; the others: the call, always. */
	const int probe = !strcmp(which, "probe");
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REGISTER_PROBE, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JA, probe ? 1 : 2, 0, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (probe ? EINVAL : EPERM)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog fprog = { sizeof(prog) / sizeof(prog[0]), prog };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
		perror("noring: seccomp");
		return 2;
	}
	execv(argv[arg], argv + arg);
	perror("noring: exec");
	return 2;
}

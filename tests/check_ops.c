// SPDX-License-Identifier: MIT
/*
 * Unit tests for the options that make mcr easy to operate: run length, readiness and the
 * stats file. Expected values come from mcr(1), never from the code under test.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define BASE "-i", "eth0", "-g", "239.0.0.1:5000", "-o", "198.18.2.2:6000"

/* ---------------------------------------------------------------------------------------- */
/* --duration SECS                                                                           */

START_TEST(test_duration_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.duration_ms, 0);
}
END_TEST

static const struct {
	const char *text;
	uint32_t ms;
} durations[] = {
	{ "1", 1000 },	      { "0.001", 1 },	 { "0.5", 500 },   { "2.25", 2250 },
	{ "10.010", 10010 }, { "86400", 86400000 }, { "3600", 3600000 },
};

START_TEST(test_duration_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];
	const char *text = durations[_i].text;

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--duration", text), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.duration_ms, durations[_i].ms);
	snprintf(attached, sizeof(attached), "--duration=%s", text);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.duration_ms, durations[_i].ms);
}
END_TEST

static const char *const bad_durations[] = {
	"0", "0.0", "0.0001", "86400.001", "86401", "-1", "1.", ".5", "1.2345", "1s", "abc", "",
	" 1", "1e3", "99999999999999999999",
};

START_TEST(test_duration_refused)
{
	const char *text = bad_durations[_i];
	char culprit[64];

	snprintf(culprit, sizeof(culprit), "--duration '%s'", text);
	REFUSED(culprit, "seconds must be from 0.001 to 86400", "--duration", text);
}
END_TEST

START_TEST(test_duration_misuse)
{
	REFUSED("--duration", "missing value", "--duration");
	REFUSED("--duration", "given twice", "--duration", "1", "--duration", "2");
}
END_TEST

START_TEST(test_duration_with_count)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	/* Whichever comes first ends the run: both are kept. */
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-c", "100", "--duration", "5"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.count, 100);
	ck_assert_uint_eq(cfg.duration_ms, 5000);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* --ready-fd N                                                                              */

START_TEST(test_ready_fd_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ready_fd, -1);
}
END_TEST

static const struct {
	const char *text;
	int fd;
} ready_fds[] = {
	{ "3", 3 },	  { "0", 0 },	    { "1", 1 },
	{ "9", 9 },	  { "1023", 1023 }, { "2147483647", 2147483647 },
};

START_TEST(test_ready_fd_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--ready-fd", ready_fds[_i].text), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ready_fd, ready_fds[_i].fd);
	snprintf(attached, sizeof(attached), "--ready-fd=%s", ready_fds[_i].text);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ready_fd, ready_fds[_i].fd);
}
END_TEST

static const char *const bad_ready_fds[] = {
	"-1", "x", "", "3x", " 3", "0x3", "2147483648", "99999999999999999999", "3.0",
};

START_TEST(test_ready_fd_refused)
{
	char culprit[64];

	snprintf(culprit, sizeof(culprit), "--ready-fd '%s'", bad_ready_fds[_i]);
	REFUSED(culprit, "not a file descriptor number", "--ready-fd", bad_ready_fds[_i]);
}
END_TEST

START_TEST(test_ready_fd_stderr)
{
	/* Closed after the line, stderr would take every later log line with it. */
	REFUSED("--ready-fd 2", "standard error", "--ready-fd", "2");
	REFUSED("--ready-fd 2", "standard error", "--ready-fd=2");
}
END_TEST

START_TEST(test_ready_fd_misuse)
{
	REFUSED("--ready-fd", "missing value", "--ready-fd");
	REFUSED("--ready-fd", "given twice", "--ready-fd", "3", "--ready-fd", "4");
}
END_TEST

static Suite *readiness_suite(void)
{
	Suite *s = suite_create("readiness");
	TCase *tc = tcase_create("--ready-fd");

	tcase_add_test(tc, test_ready_fd_default);
	tcase_add_loop_test(tc, test_ready_fd_accepted, 0,
			    sizeof(ready_fds) / sizeof(ready_fds[0]));
	tcase_add_loop_test(tc, test_ready_fd_refused, 0,
			    sizeof(bad_ready_fds) / sizeof(bad_ready_fds[0]));
	tcase_add_test(tc, test_ready_fd_stderr);
	tcase_add_test(tc, test_ready_fd_misuse);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* --stats-file PATH                                                                         */

START_TEST(test_stats_file_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_ptr_null(cfg.stats_file);
}
END_TEST

static const char *const stats_files[] = {
	"/run/mcr/camera1/stats.json", "stats.json", "./a", "x", "/tmp/with space.json",
	"-starts-with-dash", "/run/mcr/a=b.json",
};

START_TEST(test_stats_file_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[64];
	const char *path = stats_files[_i];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-file", path), MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.stats_file, path);
	snprintf(attached, sizeof(attached), "--stats-file=%s", path);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.stats_file, path);
}
END_TEST

/* The file is JSON whatever the line format; the options do not interfere. */
START_TEST(test_stats_file_with_others)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-file", "s.json", "--stats-format", "kv",
			       "--stats-interval", "5"),
			 MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.stats_file, "s.json");
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_KV);
	ck_assert_uint_eq(cfg.stats_interval_ms, 5000);
}
END_TEST

START_TEST(test_stats_file_refused)
{
	/* PATH_MAX counts the NUL; mcr needs room for ".tmp" and the NUL after PATH. */
	static char longest[4096 - 8], too_long[4096 - 7];

	REFUSED("--stats-file ''", "a file path of 1 to", "--stats-file", "");
	REFUSED("--stats-file /run/mcr/", "names a directory", "--stats-file", "/run/mcr/");
	REFUSED("e.g. /run/mcr/stats.json", "names a directory", "--stats-file", "/run/mcr/");
	REFUSED("--stats-file", "missing value", "--stats-file");
	REFUSED("--stats-file", "given twice", "--stats-file", "a", "--stats-file", "b");
	memset(too_long, 'a', sizeof(too_long) - 1);
	REFUSED("--stats-file 'aaaa", "a file path of 1 to 4087 bytes", "--stats-file", too_long);
	memset(longest, 'a', sizeof(longest) - 1);
	{
		struct mcr_config cfg;
		char err[MCR_ERR_LEN];

		ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-file", longest), MCR_PARSE_RUN);
		ck_assert_uint_eq(strlen(cfg.stats_file), 4087);
	}
}
END_TEST

static Suite *stats_file_suite(void)
{
	Suite *s = suite_create("stats file");
	TCase *tc = tcase_create("--stats-file");

	tcase_add_test(tc, test_stats_file_default);
	tcase_add_loop_test(tc, test_stats_file_accepted, 0,
			    sizeof(stats_files) / sizeof(stats_files[0]));
	tcase_add_test(tc, test_stats_file_with_others);
	tcase_add_test(tc, test_stats_file_refused);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *run_length_suite(void)
{
	Suite *s = suite_create("run length");
	TCase *tc = tcase_create("--duration");

	tcase_add_test(tc, test_duration_default);
	tcase_add_loop_test(tc, test_duration_accepted, 0,
			    sizeof(durations) / sizeof(durations[0]));
	tcase_add_loop_test(tc, test_duration_refused, 0,
			    sizeof(bad_durations) / sizeof(bad_durations[0]));
	tcase_add_test(tc, test_duration_misuse);
	tcase_add_test(tc, test_duration_with_count);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* --src-port PORT                                                                           */

START_TEST(test_src_port_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	/* Without it every destination keeps the ephemeral port the kernel picks. */
	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.src_port, 0);
}
END_TEST

static const struct {
	const char *text;
	uint16_t port;
} src_ports[] = {
	{ "1", 1 }, { "53", 53 }, { "1024", 1024 }, { "5000", 5000 }, { "65535", 65535 },
	{ "00080", 80 },
};

START_TEST(test_src_port_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];
	const char *text = src_ports[_i].text;

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--src-port", text), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.src_port, src_ports[_i].port);
	snprintf(attached, sizeof(attached), "--src-port=%s", text);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.src_port, src_ports[_i].port);
}
END_TEST

/* One port for every destination: several -o, of both families, all take it. */
START_TEST(test_src_port_many_out)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-o", "239.2.2.2:5000", "-o", "[fd00::2]:5000",
			       "--src-port", "4000"),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.n_out, 3);
	ck_assert_uint_eq(cfg.src_port, 4000);
}
END_TEST

static const char *const bad_src_ports[] = {
	"0", "65536", "-1", "+80", "80x", "0x50", "", " 80", "http", "99999999999999999999",
	"5000:5001",
};

START_TEST(test_src_port_refused)
{
	const char *text = bad_src_ports[_i];
	char culprit[64];

	snprintf(culprit, sizeof(culprit), "--src-port '%s'", text);
	REFUSED(culprit, "port must be a number from 1 to 65535", "--src-port", text);
}
END_TEST

START_TEST(test_src_port_misuse)
{
	REFUSED("--src-port", "missing value", "--src-port");
	REFUSED("--src-port", "given twice", "--src-port", "1", "--src-port", "2");
	REFUSED("--src-port", "unknown option", "--src-port", "5", "--src-ports", "5");
}
END_TEST

static Suite *src_port_suite(void)
{
	Suite *s = suite_create("source port");
	TCase *tc = tcase_create("--src-port");

	tcase_add_test(tc, test_src_port_default);
	tcase_add_loop_test(tc, test_src_port_accepted, 0,
			    sizeof(src_ports) / sizeof(src_ports[0]));
	tcase_add_test(tc, test_src_port_many_out);
	tcase_add_loop_test(tc, test_src_port_refused, 0,
			    sizeof(bad_src_ports) / sizeof(bad_src_ports[0]));
	tcase_add_test(tc, test_src_port_misuse);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* --user: one /etc/passwd line, read as passwd(5) writes it                                 */

static const struct {
	const char *line, *name;
	enum mcr_passwd want;
	uint32_t uid, gid;
} passwd_lines[] = {
	{ "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", "nobody",
	  MCR_PASSWD_MATCH, 65534, 65534 },
	/* Empty password and GECOS: splitting with strtok took "/home/svc" for the gid, so 0. */
	{ "svc::1001:1002::/home/svc:/bin/sh\n", "svc", MCR_PASSWD_MATCH, 1001, 1002 },
	/* No newline at the end of the file. */
	{ "svc:x:1001:1002:::", "svc", MCR_PASSWD_MATCH, 1001, 1002 },
	{ "svc:x:4294967294:0:::\n", "svc", MCR_PASSWD_MATCH, 4294967294u, 0 },
	{ "svc:x:1001::x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },	/* empty gid */
	{ "svc:x::1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },	/* empty uid */
	{ "svc:x:10a1:1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },
	{ "svc:x:-1:1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },
	{ "svc:x:+1:1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },
	{ "svc:x: 1:1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },
	{ "svc:x:4294967295:1002:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },	/* (uid_t)-1 */
	{ "svc:x:99999999999999999999:1:x:/h:/s\n", "svc", MCR_PASSWD_BAD, 0, 0 },
	{ "svc:x:1001:1002\n", "svc", MCR_PASSWD_BAD, 0, 0 },		/* four fields */
	{ "svc:x:1001:1002:x:/h:/s:extra\n", "svc", MCR_PASSWD_BAD, 0, 0 },	/* eight */
	{ "svcx:x:1:2:x:/h:/s\n", "svc", MCR_PASSWD_OTHER, 0, 0 },
	{ "sv:x:1:2:x:/h:/s\n", "svc", MCR_PASSWD_OTHER, 0, 0 },
	{ "SVC:x:1:2:x:/h:/s\n", "svc", MCR_PASSWD_OTHER, 0, 0 },
	{ ":x:1:2:x:/h:/s\n", "", MCR_PASSWD_OTHER, 0, 0 },	/* no name is anyone's */
	{ "\n", "svc", MCR_PASSWD_OTHER, 0, 0 },
	{ "", "svc", MCR_PASSWD_OTHER, 0, 0 },
};

START_TEST(test_passwd_line)
{
	uint32_t uid = 7, gid = 7;
	enum mcr_passwd got = parse_passwd_line(passwd_lines[_i].line, passwd_lines[_i].name, &uid,
						&gid);

	ck_assert_msg(got == passwd_lines[_i].want, "\"%s\" for %s: %d, want %d",
		      passwd_lines[_i].line, passwd_lines[_i].name, got, passwd_lines[_i].want);
	if (got == MCR_PASSWD_MATCH) {
		ck_assert_uint_eq(uid, passwd_lines[_i].uid);
		ck_assert_uint_eq(gid, passwd_lines[_i].gid);
	}
}
END_TEST

static const struct {
	const char *spec;
	bool ok;
	uint32_t uid, gid;
} user_ids[] = {
	{ "65534:65534", true, 65534, 65534 }, { "0", true, 0, 0 },
	{ "1000", true, 1000, 1000 },		{ "4294967294:1", true, 4294967294u, 1 },
	{ "4294967295:1", false, 0, 0 },		{ "1:4294967295", false, 0, 0 },
	{ "1:", false, 0, 0 },			{ ":1", false, 0, 0 },
	{ "1:2:3", false, 0, 0 },			{ "+1:2", false, 0, 0 },
	{ "-1", false, 0, 0 },			{ "nobody", false, 0, 0 },
	{ "", false, 0, 0 },				{ "1 :2", false, 0, 0 },
};

START_TEST(test_user_ids)
{
	uint32_t uid = 7, gid = 7;
	bool ok = parse_user_ids(user_ids[_i].spec, &uid, &gid);

	ck_assert_msg(ok == user_ids[_i].ok, "\"%s\": %d", user_ids[_i].spec, ok);
	if (ok) {
		ck_assert_uint_eq(uid, user_ids[_i].uid);
		ck_assert_uint_eq(gid, user_ids[_i].gid);
	}
}
END_TEST

static Suite *user_suite(void)
{
	Suite *s = suite_create("user");
	TCase *tc = tcase_create("--user");

	tcase_add_loop_test(tc, test_passwd_line, 0,
			    sizeof(passwd_lines) / sizeof(passwd_lines[0]));
	tcase_add_loop_test(tc, test_user_ids, 0, sizeof(user_ids) / sizeof(user_ids[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(run_length_suite());

	srunner_add_suite(sr, readiness_suite());
	srunner_add_suite(sr, stats_file_suite());
	srunner_add_suite(sr, src_port_suite());
	srunner_add_suite(sr, user_suite());
	return run_suites(sr, "check_ops");
}

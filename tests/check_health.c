// SPDX-License-Identifier: MIT
/*
 * Unit tests for stream health: the stall watch's options, IGMP and MLD queries as parse_frame()
 * sees them, and the membership reports mcr builds. Expected values come from mcr(1) and the
 * RFCs (2236, 3376, 2710, 3810), never from the code under test.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define BASE "-i", "eth0", "-g", "239.0.0.1:5000", "-o", "198.18.2.2:6000"

/* Refused with one line that names the culprit and the problem, and points to --help. */
static void assert_refused(const char *const *args, const char *culprit, const char *problem)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	enum mcr_parse_result r = parse_list(&cfg, err, args);
	size_t n = strnlen(err, MCR_ERR_LEN);

	ck_assert_msg(r == MCR_PARSE_ERROR, "%s: accepted", culprit);
	ck_assert_msg(n < MCR_ERR_LEN && !strchr(err, '\n'), "%s: not one line", culprit);
	ck_assert_msg(n > strlen(HINT) && !strcmp(err + n - strlen(HINT), HINT),
		      "\"%s\" does not end with the hint", err);
	ck_assert_msg(strstr(err, culprit), "\"%s\" does not name \"%s\"", err, culprit);
	ck_assert_msg(strstr(err, problem), "\"%s\" does not say \"%s\"", err, problem);
}

#define REFUSED(culprit, problem, ...)                                                         \
	assert_refused((const char *const[]){ BASE, __VA_ARGS__, NULL }, culprit, problem)

/* ---------------------------------------------------------------------------------------- */
/* --stall-timeout SECS, --stall-action warn|exit                                            */

START_TEST(test_stall_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, 0);
	ck_assert(!cfg.stall_exit);
}
END_TEST

static const struct {
	const char *text;
	uint32_t ms;
} stall_timeouts[] = {
	{ "5", 5000 }, { "0.1", 100 }, { "2.5", 2500 }, { "0.250", 250 }, { "86400", 86400000 },
};

START_TEST(test_stall_timeout_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", stall_timeouts[_i].text),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, stall_timeouts[_i].ms);
	snprintf(attached, sizeof(attached), "--stall-timeout=%s", stall_timeouts[_i].text);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, stall_timeouts[_i].ms);
}
END_TEST

static const char *const stall_refused[] = { "0", "0.0", "0.099", "0.05", "86400.001", "86401",
					     "-5", "5s", "", "1.", ".5", "1.0001", "abc" };

START_TEST(test_stall_timeout_refused)
{
	char culprit[64];

	snprintf(culprit, sizeof(culprit), "--stall-timeout '%s'", stall_refused[_i]);
	REFUSED(culprit, "0.1 to 86400", "--stall-timeout", stall_refused[_i]);
}
END_TEST

START_TEST(test_stall_action)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", "3", "--stall-action", "exit"),
			 MCR_PARSE_RUN);
	ck_assert(cfg.stall_exit);
	ck_assert_uint_eq(cfg.stall_timeout_ms, 3000);
	/* Order does not matter: the check that the timeout is there comes after all options. */
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-action=exit", "--stall-timeout=3"),
			 MCR_PARSE_RUN);
	ck_assert(cfg.stall_exit);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", "3", "--stall-action", "warn"),
			 MCR_PARSE_RUN);
	ck_assert(!cfg.stall_exit);
}
END_TEST

START_TEST(test_stall_action_refused)
{
	REFUSED("--stall-action 'restart'", "warn or exit", "--stall-timeout", "3",
		"--stall-action", "restart");
	REFUSED("--stall-action 'EXIT'", "warn or exit", "--stall-timeout", "3", "--stall-action",
		"EXIT");
	REFUSED("--stall-action exit", "--stall-timeout", "--stall-action", "exit");
	REFUSED("--stall-timeout", "given twice", "--stall-timeout", "3", "--stall-timeout", "4");
	REFUSED("--stall-action", "missing value", "--stall-timeout", "3", "--stall-action");
}
END_TEST

static Suite *stall_suite(void)
{
	Suite *s = suite_create("stall");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_stall_default);
	tcase_add_loop_test(tc, test_stall_timeout_accepted, 0,
			    sizeof(stall_timeouts) / sizeof(stall_timeouts[0]));
	tcase_add_loop_test(tc, test_stall_timeout_refused, 0,
			    sizeof(stall_refused) / sizeof(stall_refused[0]));
	tcase_add_test(tc, test_stall_action);
	tcase_add_test(tc, test_stall_action_refused);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* --stats-format prom                                                                       */

START_TEST(test_prom_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-format", "prom", "--stats-file",
			       "/run/mcr/x.prom"),
			 MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_PROM);
	ck_assert_str_eq(cfg.stats_file, "/run/mcr/x.prom");
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-file=/x.prom", "--stats-format=prom"),
			 MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_PROM);
}
END_TEST

START_TEST(test_prom_refused)
{
	/* The format is the file's: without one there is nothing to write it to. */
	REFUSED("--stats-format prom", "--stats-file", "--stats-format", "prom");
	REFUSED("--stats-format 'Prom'", "kv or json, or prom", "--stats-format", "Prom",
		"--stats-file", "/x.prom");
	REFUSED("--stats-format 'openmetrics'", "kv or json, or prom", "--stats-format",
		"openmetrics", "--stats-file", "/x.prom");
}
END_TEST

static Suite *prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_prom_accepted);
	tcase_add_test(tc, test_prom_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stall_suite());

	srunner_add_suite(sr, prom_suite());
	return run_suites(sr, "check_health");
}

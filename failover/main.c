/*
 * main.c - lb-failoverd: command line, then the agent (agent.c).
 *
 *   lb-failoverd -f FILE [-k KEYFILE] [-n] [-d] [-v] [--release-vips]
 *
 * -n checks the configuration (and the key file) and exits 0 or 1,
 * printing "FILE:LINE: message" errors.  -d stays in the foreground and
 * logs to stderr too.  --release-vips removes the configured VIPs and
 * exits (systemd's ExecStopPost, so a SIGKILLed agent leaves nothing).
 * -k overrides auth_key_file: systemd hands the key in as a credential
 * (LoadCredential=, readable by the service's own user only), so the
 * unit passes -k %d/failover.key.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "focfg.h"
#include "log.h"

static void
fo_usage(void)
{
	fprintf(stderr, "usage: lb-failoverd -f FILE [-k KEYFILE] [-n] [-d] "
	    "[-v] [--release-vips]\n");
	exit(1);
}

/* -n: the file, then the key (its mode is part of "can it start"). */
static int
fo_check(const struct fo_config *c)
{
	struct auth_key	 k;
	char		 why[256];

	if (auth_key_load(c->auth_key_file, &k, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s: auth_key_file: %s\n", c->file, why);
		return 1;
	}
	auth_key_free(&k);
	printf("%s: configuration OK\n", c->file);
	return 0;
}

static int
fo_load(const char *file, struct fo_config *c)
{
	struct cfg_errors e = { 0 };
	int	 rc = fo_config_load(file, c, &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.msg[i]);
	cfg_errors_free(&e);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "release-vips", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct fo_config	 cfg;
	static struct fo_agent	 agent;
	const char		*file = NULL, *key = NULL;
	int			 ch, check = 0, fg = 0, release = 0, rc;

	while ((ch = getopt_long(argc, argv, "f:k:ndvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'k': key = optarg; break;
		case 'n': check = 1; break;
		case 'd': fg = 1; break;
		case 'v': printf("lb-failoverd %s\n", LB_VERSION); return 0;
		case 'R': release = 1; break;
		default: fo_usage();
		}
	}
	if (file == NULL || optind != argc)
		fo_usage();
	if (fo_load(file, &cfg) == -1)
		return 1;
	if (key != NULL && snprintf(cfg.auth_key_file, sizeof(cfg.auth_key_file),
	    "%s", key) >= (int)sizeof(cfg.auth_key_file)) {
		fprintf(stderr, "-k: path too long\n");
		return 1;
	}
	if (check)
		return fo_check(&cfg);
	/* --release-vips under systemd: its stderr is the journal already */
	log_init("lb-failoverd", cfg.log_facility, fg || (release && isatty(2)));
	if (release)
		return fo_agent_release_vips(&cfg, false) == -1 ? 1 : 0;
	signal(SIGPIPE, SIG_IGN);
	/* under systemd (Type=notify) stay in the foreground */
	if (!fg && getenv("NOTIFY_SOCKET") == NULL && daemon(0, 0) == -1)
		fatal("daemon");
	if (fo_agent_init(&agent, &cfg) == -1) {
		fo_agent_free(&agent);
		return 1;
	}
	rc = fo_agent_run(&agent);
	fo_agent_free(&agent);
	log_info("exiting");
	return rc;
}

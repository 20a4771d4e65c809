/*
 * main.c - lbd's command line.
 *
 *   lbd -f FILE [-d | -D]   run (-d: foreground, logs on stderr too;
 *                           -D: foreground, syslog only, for systemd)
 *   lbd -n -f FILE          validate FILE and exit 0 (valid) or 1
 *   lbd -v                  print the version
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfg.h"
#include "conf.h"
#include "log.h"
#include "master.h"

#define LBD_DEFAULT_CONF	"/etc/lb/lbd.conf"

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lbd [-d | -D] [-n] [-f FILE]\n"
	    "       lbd -v\n"
	    "  -f FILE  configuration file (default " LBD_DEFAULT_CONF ")\n"
	    "  -n       check the configuration and exit\n"
	    "  -d       stay in the foreground, log to stderr as well\n"
	    "  -D       stay in the foreground, log to syslog only\n"
	    "  -v       print the version and exit\n");
	exit(status);
}

int
main(int argc, char **argv)
{
	struct master_opts	 o = { .conf_path = LBD_DEFAULT_CONF };
	struct cfg_errors	 errs = { 0 };
	struct conf		*conf;
	int			 ch, check_only = 0;
	size_t			 i;

	while ((ch = getopt(argc, argv, "dDf:hnv")) != -1) {
		switch (ch) {
		case 'd':
			o.foreground = o.log_stderr = true;
			break;
		case 'D':
			o.foreground = true;
			break;
		case 'f':
			o.conf_path = optarg;
			break;
		case 'h':
			usage(0);
		case 'n':
			check_only = 1;
			break;
		case 'v':
			printf("lbd %s\n", LB_VERSION);
			return 0;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);

	conf = conf_load(o.conf_path, &errs);
	if (conf == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot load configuration\n",
			    o.conf_path);
		if (!check_only) {
			/* Config errors also go to syslog: lbd may be a service. */
			log_init("lbd", LOG_DAEMON, 0);
			for (i = 0; i < errs.n; i++)
				log_errx("%s", errs.msg[i]);
		}
		cfg_errors_free(&errs);
		return 1;
	}
	cfg_errors_free(&errs);
	if (check_only) {
		printf("%s: configuration OK\n", o.conf_path);
		conf_free(conf);
		return 0;
	}
	return master_run(conf, &o);
}

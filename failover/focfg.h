/*
 * focfg.h - lb-failoverd configuration: load and strictly validate the
 * libconfig file (unknown keys, types, ranges, addresses), collecting
 * "FILE:LINE: message" errors.  No logging; the caller prints errors.
 */
#ifndef LB_FOCFG_H
#define LB_FOCFG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cfg.h"
#include "packet-t.h"

#define FO_PEERS_MAX	8
#define FO_VIPS_MAX	16
#define FO_SUN_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)
#define FO_DEFAULT_CTL	"/run/lb-failoverd/lb-failoverd.sock"

struct fo_vip {
	struct in_addr	 addr;		/* IPv4 only: announced by ARP */
	uint8_t		 prefix;	/* 1..32 */
	char		 text[24];	/* "10.77.0.100/24" */
};

struct fo_config {
	char			 file[PATH_MAX];
	unsigned		 vrid;
	unsigned		 priority;
	bool			 preempt;
	uint64_t		 preempt_delay_ms;
	uint64_t		 advert_ms;
	unsigned		 down_adverts;
	struct sockaddr_storage	 bind;
	socklen_t		 bind_len;
	struct sockaddr_storage	 peers[FO_PEERS_MAX];
	socklen_t		 peer_len[FO_PEERS_MAX];
	size_t			 npeers;
	char			 interface[IFNAMSIZ];
	struct fo_vip		 vips[FO_VIPS_MAX];
	size_t			 nvips;
	char			 auth_key_file[PATH_MAX];
	char			 track_lbd[FO_SUN_MAX];	/* "" = not tracked */
	uint64_t		 track_interval_ms;	/* default advert */
	uint64_t		 track_timeout_ms;	/* default advert / 2 */
	unsigned		 track_fall;
	unsigned		 track_rise;
	char			 notify[PATH_MAX];	/* "" = none */
	uint64_t		 notify_timeout_ms;
	char			 control_socket[FO_SUN_MAX];
	uint32_t		 node_id;
	int			 log_facility;
	uint8_t			 config_hash[PKT_HASH_LEN];
};

/*
 * Loads `file` into *c (defaults first).  Returns 0, or -1 with at least
 * one message in *errs.  Reads the file; does not open the key file.
 */
int fo_config_load(const char *file, struct fo_config *c,
    struct cfg_errors *errs);

#endif

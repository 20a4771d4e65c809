/*
 * listen.c - see listen.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

int
listen_open(const struct conf_listener *l, char *why, size_t whylen)
{
	const char	*call;
	int		 fd, on = 1, saved;

	fd = socket(l->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		call = "socket";
		goto fail_nofd;
	}
	call = "setsockopt(SO_REUSEADDR)";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	call = "setsockopt(IPV6_V6ONLY)";
	if (l->addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	call = "setsockopt(IP_FREEBIND)";
	if (l->freebind &&
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on)) == -1)
		goto fail;
	call = "bind";
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) == -1)
		goto fail;
	call = "listen";
	if (listen(fd, l->backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
fail_nofd:
	snprintf(why, whylen, "%s", call);
	return -1;
}

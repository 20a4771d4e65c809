/*
 * vip.c - VIP management over rtnetlink.  Each call opens a short-lived
 * NETLINK_ROUTE socket, sends one request with NLM_F_ACK and reads the
 * kernel's answer (bounded by a 1 s receive timeout, so a wedged kernel
 * cannot hang the agent forever).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vip.h"

struct vip_req {
	struct nlmsghdr	 nh;
	struct ifaddrmsg ifa;
	char		 attrs[64];
};

/* Appends one rtattr of `len` bytes to the request. */
static void
vip_attr(struct vip_req *r, unsigned short type, const void *data,
    size_t len)
{
	struct rtattr	*rta = (struct rtattr *)(void *)((char *)r +
	    NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * Sends the request and waits for the ack.  Returns 0, or -1 with errno
 * set from the kernel's nlmsgerr.
 */
static int
vip_talk(struct vip_req *r)
{
	struct sockaddr_nl	 sa = { .nl_family = AF_NETLINK };
	struct timeval		 tv = { 1, 0 };
	char			 buf[1024];
	struct nlmsghdr		*nh;
	ssize_t			 n;
	int			 fd, err = EIO;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		goto fail;
	for (int tries = 0; tries < 8; tries++) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			err = errno;
			break;
		}
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != r->nh.nlmsg_seq ||
			    nh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
			close(fd);
			if (err == 0)
				return 0;
			errno = err;
			return -1;
		}
	}
	close(fd);
	errno = err;
	return -1;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int
vip_request(int type, int flags, int ifindex, const struct fo_vip *v)
{
	static unsigned	 seq;
	struct vip_req	 r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.nh.nlmsg_type = (unsigned short)type;
	r.nh.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	r.nh.nlmsg_seq = ++seq;
	r.ifa.ifa_family = AF_INET;
	r.ifa.ifa_prefixlen = v->prefix;
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = (unsigned)ifindex;
	vip_attr(&r, IFA_LOCAL, &v->addr, sizeof(v->addr));
	vip_attr(&r, IFA_ADDRESS, &v->addr, sizeof(v->addr));
	return vip_talk(&r);
}

int
vip_add(int ifindex, const struct fo_vip *v)
{
	if (vip_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, v) == 0)
		return 1;
	return errno == EEXIST ? 0 : -1;
}

int
vip_del(int ifindex, const struct fo_vip *v)
{
	if (vip_request(RTM_DELADDR, 0, ifindex, v) == 0)
		return 1;
	return errno == EADDRNOTAVAIL || errno == ENOENT || errno == ESRCH ?
	    0 : -1;
}

/*
 * garp.c - gratuitous ARP (see garp.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "garp-t.h"
#include "garp.h"

int
garp_open(void)
{
	return socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    htons(ETH_P_ARP));
}

int
garp_hwaddr(const char *ifname, uint8_t mac[6])
{
	struct ifreq	 ifr;
	int		 fd, err;

	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

void
garp_build(const uint8_t mac[6], struct in_addr ip, uint8_t out[28])
{
	struct garp_wire a;

	memset(&a, 0, sizeof(a));
	a.hrd = htons(ARPHRD_ETHER);
	a.pro = htons(ETH_P_IP);
	a.hln = 6;
	a.pln = 4;
	a.op = htons(ARPOP_REQUEST);
	memcpy(a.sha, mac, 6);
	memcpy(a.spa, &ip, 4);
	memcpy(a.tpa, &ip, 4);
	memcpy(out, &a, sizeof(a));
}

int
garp_send(int fd, int ifindex, const uint8_t mac[6], struct in_addr ip)
{
	struct sockaddr_ll	 ll;
	uint8_t			 pkt[28];

	garp_build(mac, ip, pkt);
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_P_ARP);
	ll.sll_ifindex = ifindex;
	ll.sll_halen = 6;
	memset(ll.sll_addr, 0xff, 6);
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ll,
	    sizeof(ll)) == -1)
		return -1;
	return 0;
}

/*
 * test_vrrp.c - the failover state machine under a fake clock, table
 * driven: each scenario is a list of (time, event, peer) steps with the
 * state and the actions expected after each.  Plus the timer formulas.
 */
#include <check.h>
#include <stdlib.h>

#include "vrrp.h"

#define B	VRRP_BACKUP
#define M	VRRP_MASTER
#define F	VRRP_FAULT
#define I	VRRP_INIT
#define ANY	0xffffu		/* don't check actions */

struct step {
	int64_t		 at;
	enum vrrp_ev	 ev;
	int		 peer_prio;	/* -1: no peer */
	int		 peer_state;
	int		 resign;
	unsigned	 peer_id;
	enum vrrp_state	 want;
	unsigned	 want_actions;	/* must all be set; ANY = skip */
	unsigned	 forbid;	/* must all be clear */
};

struct scenario {
	const char	*name;
	int		 prio;
	int		 preempt;
	int64_t		 preempt_delay;
	struct step	 steps[12];
	int		 n;
};

#define ADV	VRRP_A_ADVERT
#define ADD	VRRP_A_VIP_ADD
#define DEL	VRRP_A_VIP_DEL
#define GARP	VRRP_A_GARP
#define RES	VRRP_A_RESIGN
#define S(at, ev, pp, ps, rs, pid, want, acts, forbid) \
	{ at, ev, pp, ps, rs, pid, want, acts, forbid }
#define T(at, want, acts, forbid) S(at, VRRP_EV_TIMER, -1, 0, 0, 0, want, acts, forbid)
#define P(at, pp, ps, want, acts, forbid) \
	S(at, VRRP_EV_PEER, pp, ps, 0, 1, want, acts, forbid)
#define START	S(0, VRRP_EV_START, -1, 0, 0, 0, B, 0, ADD)

/* prio 150, advert 100, down 3: skew 41, master down 341 (node id 5). */
static const struct scenario scen[] = {
	{ "alone: master after master-down interval", 150, 1, 0, {
		START,
		T(340, B, ANY, ADD),
		T(341, M, ADD | GARP | ADV, 0),
		T(441, M, ADV, ADD),
	}, 4 },
	{ "stronger master keeps us backup", 150, 1, 0, {
		START,
		P(300, 200, M, B, 0, ADD),
		T(400, B, ANY, ADD),
		P(600, 200, M, B, 0, ADD),
		T(940, B, ANY, ADD),
		T(941, M, ADD, 0),
	}, 6 },
	{ "preempt weaker master at once", 150, 1, 0, {
		START,
		P(100, 100, M, M, ADD | GARP, 0),
	}, 2 },
	{ "preempt honours preempt_delay", 150, 1, 1000, {
		START,
		P(100, 100, M, B, 0, ADD),
		P(400, 100, M, B, 0, ADD),
		P(1000, 100, M, B, 0, ADD),
		T(1100, M, ADD, 0),
	}, 5 },
	{ "nopreempt: weaker master left alone", 150, 0, 0, {
		START,
		P(100, 100, M, B, 0, ADD),
		P(400, 100, M, B, 0, ADD),
		P(700, 100, M, B, 0, ADD),
	}, 4 },
	{ "equal priority: higher node id wins", 150, 1, 0, {
		START,
		S(100, VRRP_EV_PEER, 150, M, 0, 9, B, 0, ADD),
		S(200, VRRP_EV_PEER, 150, M, 0, 2, M, ADD, 0),
	}, 3 },
	{ "resign: take over after skew only", 150, 1, 0, {
		START,
		P(100, 200, M, B, 0, ADD),
		S(150, VRRP_EV_PEER, 0, M, 1, 1, B, 0, ADD),
		T(190, B, ANY, ADD),
		T(191, M, ADD | GARP, 0),
	}, 5 },
	{ "resign from a non-master is ignored", 150, 1, 0, {
		START,
		S(50, VRRP_EV_PEER, 0, B, 1, 1, B, 0, ADD),
		T(200, B, ANY, ADD),
		T(341, M, ADD, 0),
	}, 4 },
	{ "backups' heartbeats do not reset the down timer", 150, 1, 0, {
		START,
		P(100, 200, B, B, 0, ADD),
		T(341, M, ADD, 0),
	}, 3 },
	{ "master yields to stronger master", 150, 1, 0, {
		START,
		T(341, M, ADD, 0),
		P(400, 200, M, B, DEL, ADD),
	}, 3 },
	{ "split brain: master answers weaker master", 150, 1, 0, {
		START,
		T(341, M, ADD, 0),
		P(400, 100, M, M, ADV | GARP, DEL),
	}, 3 },
	{ "fault from master resigns and releases", 150, 1, 0, {
		START,
		T(341, M, ADD, 0),
		S(400, VRRP_EV_FAULT, -1, 0, 0, 0, F, DEL | RES, ADD),
		T(2000, F, ANY, ADD),
		P(2050, 100, M, F, 0, ADD),
		S(2100, VRRP_EV_HEALTHY, -1, 0, 0, 0, B, 0, ADD),
		T(2440, B, ANY, ADD),
		T(2441, M, ADD, 0),
	}, 8 },
	{ "fault from backup sends heartbeat, no resign", 150, 1, 0, {
		START,
		S(10, VRRP_EV_FAULT, -1, 0, 0, 0, F, ADV, RES | ADD | DEL),
		T(5000, F, ADV, ADD),
	}, 3 },
	{ "stop as master: resign and release", 150, 1, 0, {
		START,
		T(341, M, ADD, 0),
		S(500, VRRP_EV_STOP, -1, 0, 0, 0, I, DEL | RES, ADD),
		T(5000, I, 0, ADV | ADD),
	}, 4 },
	{ "stop as backup: resign, nothing to release", 150, 1, 0, {
		START,
		S(100, VRRP_EV_STOP, -1, 0, 0, 0, I, RES, DEL | ADD),
	}, 2 },
};

START_TEST(table)
{
	const struct scenario *sc = &scen[_i];
	struct vrrp_params p = { .priority = (uint8_t)sc->prio, .node_id = 5,
	    .preempt = sc->preempt != 0, .preempt_delay_ms = sc->preempt_delay,
	    .advert_ms = 100, .down_adverts = 3 };
	struct vrrp	 v;
	struct vrrp_out	 out;

	vrrp_init(&v, &p);
	for (int i = 0; i < sc->n; i++) {
		const struct step *s = &sc->steps[i];
		struct vrrp_peer peer = { .resign = s->resign != 0,
		    .priority = (uint8_t)(s->peer_prio < 0 ? 0 : s->peer_prio),
		    .state = (uint8_t)s->peer_state, .node_id = s->peer_id };

		vrrp_step(&v, s->ev, s->peer_prio < 0 ? NULL : &peer, s->at, &out);
		ck_assert_msg(v.state == s->want, "%s: step %d: state %s, want %s",
		    sc->name, i, vrrp_state_name(v.state),
		    vrrp_state_name(s->want));
		if (s->want_actions != ANY)
			ck_assert_msg((out.actions & s->want_actions) ==
			    s->want_actions, "%s: step %d: actions %#x lack %#x",
			    sc->name, i, out.actions, s->want_actions);
		ck_assert_msg((out.actions & s->forbid) == 0,
		    "%s: step %d: actions %#x include forbidden %#x",
		    sc->name, i, out.actions, s->forbid);
	}
}
END_TEST

START_TEST(formulas)
{
	struct vrrp_params p = { .priority = 100, .advert_ms = 1000,
	    .down_adverts = 3 };

	/* RFC 5798 6.1: keepalived's default 3.61 s */
	ck_assert_int_eq(vrrp_skew_ms(&p), 609);
	ck_assert_int_eq(vrrp_master_down_ms(&p), 3609);
	p.advert_ms = 100;
	ck_assert_int_eq(vrrp_master_down_ms(&p), 360);
	p.priority = 150;
	ck_assert_int_eq(vrrp_skew_ms(&p), 41);
	ck_assert_int_eq(vrrp_master_down_ms(&p), 341);
	p.priority = 254;
	ck_assert_int_eq(vrrp_skew_ms(&p), 0);
	p.priority = 1;
	p.down_adverts = 5;
	ck_assert_int_eq(vrrp_master_down_ms(&p), 599);
}
END_TEST

START_TEST(deadlines)
{
	struct vrrp_params p = { .priority = 150, .advert_ms = 100,
	    .down_adverts = 3, .preempt = true };
	struct vrrp	 v;
	struct vrrp_out	 out;

	vrrp_init(&v, &p);
	ck_assert_int_eq(vrrp_next_deadline(&v), -1);
	ck_assert_int_eq(vrrp_effective_priority(&v), 0);
	vrrp_step(&v, VRRP_EV_START, NULL, 1000, &out);
	ck_assert_int_eq(out.old, VRRP_INIT);
	ck_assert_int_eq(out.new, VRRP_BACKUP);
	ck_assert_int_eq(vrrp_next_deadline(&v), 1000);	/* heartbeat now */
	vrrp_step(&v, VRRP_EV_TIMER, NULL, 1000, &out);
	ck_assert(out.actions & VRRP_A_ADVERT);
	ck_assert_int_eq(vrrp_next_deadline(&v), 1100);
	ck_assert_int_eq(vrrp_effective_priority(&v), 150);
	ck_assert_str_eq(vrrp_state_name(VRRP_FAULT), "FAULT");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("vrrp");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_add_loop_test(tc, table, 0, (int)(sizeof(scen) / sizeof(scen[0])));
	tcase_add_test(tc, formulas);
	tcase_add_test(tc, deadlines);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

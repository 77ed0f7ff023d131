/*
 * fwrun.c: the gateway's nftables transactions, one at a time on a thread
 * of their own, their ends reported to the event loop through an eventfd.
 *
 * The main thread owns the open script; starting a transaction swaps it
 * with the (empty) job script under the mutex, and the thread touches the
 * job only between being handed it and saying it is done, so the text is
 * never shared while either side writes it.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/firewall.h"
#include "tunneld/fwrun.h"

struct fwrun {
	struct event_base	*base;
	const char		*nft;
	fwrun_done_cb		 done;
	void			*arg;
	struct event		*ev;
	int			 efd;		/* the thread: "done" */
	pthread_t		 thread;

	/* The main thread's. */
	struct fw_script	 open;
	uint64_t		 open_seq;
	bool			 busy;		/* a transaction is out */
	char			 err[1024];	/* the last one's complaint */

	/* Under mu. */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct fw_script	 job;
	uint64_t		 job_seq;
	bool			 job_ready;	/* for the thread to run */
	bool			 job_done;	/* for the loop to collect */
	bool			 stop;
	int			 job_rc;
	double			 job_secs;
	char			 job_err[1024];
};

static double
fwrun_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void *
fwrun_main(void *arg)
{
	struct fwrun	*fr = arg;
	sigset_t	 all;
	uint64_t	 one = 1;
	double		 t0;
	int		 rc;

	/* Signals are the event loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&fr->mu);
		while (!fr->stop && !fr->job_ready)
			pthread_cond_wait(&fr->cv, &fr->mu);
		if (fr->stop) {
			pthread_mutex_unlock(&fr->mu);
			return (NULL);
		}
		fr->job_ready = false;
		pthread_mutex_unlock(&fr->mu);

		t0 = fwrun_now();
		rc = firewall_nft(fr->nft, &fr->job, fr->job_err,
		    sizeof(fr->job_err));

		pthread_mutex_lock(&fr->mu);
		fr->job_rc = rc;
		fr->job_secs = fwrun_now() - t0;
		fr->job_done = true;
		pthread_mutex_unlock(&fr->mu);
		while (
		    write(fr->efd, &one, sizeof(one)) == -1 && errno == EINTR)
			;
	}
}

static void
fwrun_start(struct fwrun *fr)
{
	struct fw_script	 t;

	pthread_mutex_lock(&fr->mu);
	t = fr->job;
	fr->job = fr->open;
	fr->open = t;
	fw_script_reset(&fr->open);
	fr->job_seq = fr->open_seq++;
	fr->job_ready = true;
	pthread_cond_signal(&fr->cv);
	pthread_mutex_unlock(&fr->mu);
	fr->busy = true;
}

static void
fwrun_done_cb_ev(evutil_socket_t fd, short events, void *arg)
{
	struct fwrun	*fr = arg;
	uint64_t	 n, seq;
	size_t		 len;
	double		 secs;
	bool		 done;
	int		 rc;

	(void)events;
	if (read(fd, &n, sizeof(n)) == -1)
		return;		/* EAGAIN: nothing yet */
	pthread_mutex_lock(&fr->mu);
	done = fr->job_done;
	fr->job_done = false;
	rc = fr->job_rc;
	secs = fr->job_secs;
	seq = fr->job_seq;
	len = fr->job.len;
	fw_script_reset(&fr->job);
	memcpy(fr->err, fr->job_err, sizeof(fr->err));
	pthread_mutex_unlock(&fr->mu);
	if (!done)
		return;
	fr->busy = false;
	log_debug("nft transaction %llu (%zu bytes): %s in %.3f s",
	    (unsigned long long)seq, len, rc == 0 ? "applied" : "refused",
	    secs);
	fr->done(fr->arg, seq, rc == 0 ? NULL : fr->err);
	if (!fr->busy && fr->open.len > 0)
		fwrun_start(fr);
}

struct fwrun *
fwrun_new(struct event_base *base, const char *nft, fwrun_done_cb done,
    void *arg)
{
	struct fwrun	*fr;

	fr = xcalloc(1, sizeof(*fr));
	fr->base = base;
	fr->nft = nft;
	fr->done = done;
	fr->arg = arg;
	fr->open_seq = 1;
	if ((fr->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	if ((fr->ev = event_new(base, fr->efd, EV_READ | EV_PERSIST,
		 fwrun_done_cb_ev, fr)) == NULL ||
	    event_add(fr->ev, NULL) == -1)
		fatalx("event_new fwrun");
	pthread_mutex_init(&fr->mu, NULL);
	pthread_cond_init(&fr->cv, NULL);
	if ((errno = pthread_create(&fr->thread, NULL, fwrun_main, fr)) != 0)
		fatal("pthread_create fwrun");
	return (fr);
}

void
fwrun_free(struct fwrun *fr)
{
	if (fr == NULL)
		return;
	pthread_mutex_lock(&fr->mu);
	fr->stop = true;
	pthread_cond_signal(&fr->cv);
	pthread_mutex_unlock(&fr->mu);
	/* A running nft ends within firewall_nft()'s time limit. */
	pthread_join(fr->thread, NULL);
	pthread_cond_destroy(&fr->cv);
	pthread_mutex_destroy(&fr->mu);
	event_free(fr->ev);
	close(fr->efd);
	fw_script_free(&fr->open);
	fw_script_free(&fr->job);
	free(fr);
}

struct fw_script *
fwrun_script(struct fwrun *fr)
{
	return (&fr->open);
}

uint64_t
fwrun_commit(struct fwrun *fr)
{
	uint64_t	 seq = fr->open_seq;

	if (fr->open.len == 0)
		return (0);
	if (!fr->busy)
		fwrun_start(fr);
	return (seq);
}

void
fwrun_discard(struct fwrun *fr)
{
	fw_script_reset(&fr->open);
}
